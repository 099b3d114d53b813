// Three small RAII types over sqlite3 (after SQLiteCpp): Database, Statement, Transaction.
// Errors come back as Status; messages carry SQLite's text, never bound values.
//
// A Database keeps the statements it has compiled: a Statement with the same SQL text takes
// a compiled one back instead of preparing it again (preparing costs more than running most of
// our one-row statements). A Database, like a sqlite3 handle opened NOMUTEX, is used by one
// thread at a time; its cache needs no lock for the same reason.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "kring/common/bytes.h"
#include "kring/common/status.h"
#include "kring/common/wal_checkpointer.h"

namespace kring::sql {

class Database {
 public:
  Database() = default;
  ~Database();
  Database(Database&& other) noexcept;
  Database& operator=(Database&& other) noexcept;
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;

  // Where a writable connection's write-ahead log is copied into the database file.
  enum class Checkpoints {
    kInline,           // SQLite's own: inside the commit that takes the log past 1,000 pages
    kBackground,       // a large commit's copy on a WalCheckpointer's thread, small ones inline
    kBackgroundEvery,  // every copy on the thread (the bench's floors: their fastest)
  };

  // Opens (creating if asked) with WAL, synchronous=FULL, foreign keys and a busy timeout.
  static Result<Database> Open(const std::string& path, bool read_only = false,
                               Checkpoints checkpoints = Checkpoints::kInline);

  Status Exec(std::string_view sql);
  sqlite3* handle() const { return db_; }
  int64_t LastInsertRowId() const { return sqlite3_last_insert_rowid(db_); }
  int Changes() const { return sqlite3_changes(db_); }
  // Rows inserted, updated or deleted on this connection since it opened.
  int64_t TotalChanges() const { return sqlite3_total_changes64(db_); }
  // Whether a transaction is open. SQLite rolls the whole transaction back on some errors (a full
  // disk, an I/O error, out of memory), not only the failing statement: then this turns false
  // while a caller still holds its Transaction and Savepoints.
  bool InTransaction() const { return db_ != nullptr && sqlite3_get_autocommit(db_) == 0; }

  // Applies migrations[i] for every i >= user_version, each in its own transaction.
  Status Migrate(const std::vector<std::string_view>& migrations);

  // Copies the whole write-ahead log into the database file and empties it (erasure: the log
  // keeps old copies of the pages secure_delete overwrote). An error unless it was emptied (a
  // reader on an older snapshot, or a writer, held part of it back). A background copy under
  // way is waited for, not raced: SQLite would answer a second checkpoint "busy" at once.
  Status TruncateWal();

  // The background checkpointer (Checkpoints::kBackground), else null. For tests.
  const WalCheckpointer* checkpointer() const { return checkpointer_.get(); }

 private:
  friend class Statement;
  // Idle compiled statements by SQL text. Shared with the Statements checked out of it, so one
  // that outlives its Database (a bug, but harmless before the cache) finds it closed and
  // finalizes itself instead of writing into freed memory.
  struct StatementCache {
    // Shorter texts first, then bytewise: most of our SQL texts differ in length, so a lookup
    // compares lengths on its way down instead of the texts' long common prefixes ("SELECT ...
    // FROM"), and the full text once, at the end.
    struct ByLength {
      using is_transparent = void;
      bool operator()(std::string_view a, std::string_view b) const noexcept {
        return a.size() != b.size() ? a.size() < b.size() : a < b;
      }
    };
    std::map<std::string, std::vector<sqlite3_stmt*>, ByLength> idle;
    bool closed = false;
  };

  explicit Database(sqlite3* db);
  void Close();

  sqlite3* db_ = nullptr;
  std::shared_ptr<StatementCache> cache_;
  std::unique_ptr<WalCheckpointer> checkpointer_;  // writable connections only
};

class Statement {
 public:
  // Takes an idle compiled statement of the same SQL from `db`'s cache, or compiles one.
  Statement(const Database& db, std::string_view sql);
  // Resets the statement and hands it back to the cache.
  ~Statement();
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  const Status& status() const { return status_; }

  Statement& Bind(int index, int64_t value);
  Statement& Bind(int index, ByteView blob);
  // Without SQLite's copy: `blob` must outlive this Statement (~Statement clears the bindings).
  Statement& BindBorrowed(int index, ByteView blob);
  Statement& BindText(int index, std::string_view text);
  Statement& BindNull(int index);
  Statement& Bind(int index, const Bytes& blob) { return Bind(index, ByteView(blob)); }
  Statement& Bind(int index, const std::string& blob) { return Bind(index, View(blob)); }

  // Returns true while a row is available; errors end the iteration and set status().
  bool Step();
  // Steps to completion; returns the error, if any.
  Status Run();
  void Reset();

  int64_t Int(int col) const { return sqlite3_column_int64(stmt_, col); }
  Bytes Blob(int col) const;
  std::string BlobString(int col) const;
  std::string Text(int col) const;
  bool IsNull(int col) const { return sqlite3_column_type(stmt_, col) == SQLITE_NULL; }

 private:
  sqlite3* db_ = nullptr;
  sqlite3_stmt* stmt_ = nullptr;
  std::shared_ptr<Database::StatementCache> cache_;  // where ~Statement returns stmt_; may be null
  std::vector<sqlite3_stmt*>* idle_ = nullptr;       // cache_'s list for this SQL text
  Status status_;
};

// BEGIN IMMEDIATE; rolls back unless Commit() succeeded.
class Transaction {
 public:
  explicit Transaction(Database& db);
  ~Transaction();
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;
  const Status& status() const { return status_; }
  Status Commit();

 private:
  Database& db_;
  Status status_;
  bool done_ = false;
};

// A nested unit inside a transaction: released on Release(), rolled back otherwise.
class Savepoint {
 public:
  Savepoint(Database& db, std::string name);
  ~Savepoint();
  Savepoint(const Savepoint&) = delete;
  Savepoint& operator=(const Savepoint&) = delete;
  const Status& status() const { return status_; }
  Status Release();
  // Undoes everything since the savepoint and ends it; an error when that is no longer possible
  // (the transaction around it was lost).
  Status Rollback();
  // Undoes everything since the savepoint and keeps it open (ROLLBACK TO without RELEASE): what
  // runs next is inside it again, and Release() or Rollback() ends it. An error when that is no
  // longer possible (the transaction around it was lost).
  Status RollbackTo();

 private:
  Database& db_;
  std::string name_;
  Status status_;
  bool done_ = false;
};

}  // namespace kring::sql
