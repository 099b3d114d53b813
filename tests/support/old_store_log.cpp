#include "support/old_store_log.h"

#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "store/log_segments.h"

namespace kring::test {

void LogBackToRows(sql::Database& db) {
  sql::Transaction tx(db);
  REQUIRE(tx.status().ok());
  // Schema 1's table, as LocalStore created it.
  REQUIRE(db.Exec("CREATE TABLE log ("
                  "case_id BLOB NOT NULL, seq INTEGER NOT NULL, chain_hash BLOB NOT NULL, "
                  "envelope BLOB NOT NULL, PRIMARY KEY (case_id, seq))")
              .ok());
  {
    sql::Statement rows(db,
                        "SELECT case_id, first_seq, last_seq, chain_hashes, envelopes "
                        "FROM log_segments ORDER BY case_id, last_seq");
    sql::Statement ins(db,
                       "INSERT INTO log (case_id, seq, chain_hash, envelope) VALUES (?, ?, ?, ?)");
    std::vector<client::SegmentEntry> entries;
    while (rows.Step()) {
      const Bytes case_id = rows.Blob(0);
      const std::string chain_hashes = rows.BlobString(3);
      const std::string envelopes = rows.BlobString(4);
      REQUIRE(client::SplitSegment(rows.Int(1), rows.Int(2), View(chain_hashes), View(envelopes),
                                   &entries)
                  .ok());
      for (const client::SegmentEntry& e : entries) {
        ins.Reset();
        REQUIRE(ins.Bind(1, case_id)
                    .Bind(2, static_cast<int64_t>(e.seq))
                    .Bind(3, e.chain_hash)
                    .Bind(4, e.envelope)
                    .Run()
                    .ok());
      }
    }
    REQUIRE(rows.status().ok());
  }
  REQUIRE(db.Exec("DROP TABLE log_segments").ok());
  REQUIRE(tx.Commit().ok());
}

}  // namespace kring::test
