#include "kring/common/sqlite.h"

#include <utility>

namespace kring::sql {
namespace {

Status SqlError(sqlite3* db, std::string_view what) {
  int code = db ? sqlite3_extended_errcode(db) : SQLITE_ERROR;
  StatusCode sc = StatusCode::kInternal;
  if ((code & 0xff) == SQLITE_BUSY || (code & 0xff) == SQLITE_LOCKED) sc = StatusCode::kUnavailable;
  if ((code & 0xff) == SQLITE_CONSTRAINT) sc = StatusCode::kAlreadyExists;
  if ((code & 0xff) == SQLITE_CORRUPT || (code & 0xff) == SQLITE_NOTADB) sc = StatusCode::kDataLoss;
  if ((code & 0xff) == SQLITE_FULL || (code & 0xff) == SQLITE_IOERR) sc = StatusCode::kUnavailable;
  return Status::Storage(sc,
                         std::string(what) + ": " + (db ? sqlite3_errmsg(db) : "out of memory"));
}

}  // namespace

// Bounds for the statement cache: our SQL texts are fixed strings, so these are never reached
// in practice; they only stop a caller that builds SQL text dynamically from growing it forever.
constexpr size_t kMaxCachedSqlTexts = 256;
constexpr size_t kMaxIdlePerSql = 4;

Database::Database(sqlite3* db) : db_(db), cache_(std::make_shared<StatementCache>()) {}

// Compiled statements go first: a connection with live statements would stay open (close_v2
// defers) and the writer's connection must really close to checkpoint the WAL.
void Database::Close() {
  checkpointer_.reset();  // its connection closes first; this one, closing last, checkpoints
  if (cache_) {
    for (auto& [sql, idle] : cache_->idle) {
      for (sqlite3_stmt* stmt : idle) sqlite3_finalize(stmt);
      idle.clear();
    }
    cache_->closed = true;
    cache_.reset();
  }
  if (db_ != nullptr) sqlite3_close_v2(db_);
  db_ = nullptr;
}

Database::~Database() { Close(); }
Database::Database(Database&& other) noexcept
    : db_(std::exchange(other.db_, nullptr)),
      cache_(std::move(other.cache_)),
      checkpointer_(std::move(other.checkpointer_)) {}
Database& Database::operator=(Database&& other) noexcept {
  if (this != &other) {
    Close();
    db_ = std::exchange(other.db_, nullptr);
    cache_ = std::move(other.cache_);
    checkpointer_ = std::move(other.checkpointer_);
  }
  return *this;
}

Result<Database> Database::Open(const std::string& path, bool read_only, Checkpoints checkpoints) {
  sqlite3* raw = nullptr;
  int flags = SQLITE_OPEN_NOMUTEX |
              (read_only ? SQLITE_OPEN_READONLY : (SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE));
  int rc = sqlite3_open_v2(path.c_str(), &raw, flags, nullptr);
  Database db(raw);
  if (rc != SQLITE_OK) return SqlError(raw, "cannot open database");
  sqlite3_busy_timeout(raw, 5000);
  sqlite3_extended_result_codes(raw, 1);
  if (!read_only) KRING_RETURN_IF_ERROR(db.Exec("PRAGMA journal_mode=WAL"));
  KRING_RETURN_IF_ERROR(db.Exec("PRAGMA synchronous=FULL"));
  KRING_RETURN_IF_ERROR(db.Exec("PRAGMA foreign_keys=ON"));
  // Deleted rows (an erased case, a removed key) are overwritten, not left in free pages.
  KRING_RETURN_IF_ERROR(db.Exec("PRAGMA secure_delete=ON"));
  if (!read_only && checkpoints != Checkpoints::kInline) {
    // When the WAL starts over, its file shrinks back to 4 MB (a burst may have grown it to about
    // WalCheckpointer::kInlinePages), so old page copies do not stay in its tail.
    KRING_RETURN_IF_ERROR(db.Exec("PRAGMA journal_size_limit=4194304"));
    db.checkpointer_ = std::make_unique<WalCheckpointer>(
        raw, checkpoints == Checkpoints::kBackground ? WalCheckpointer::kLargeCommitPages : 0);
  }
  return db;
}

Status Database::Exec(std::string_view sql) {
  std::string s(sql);
  char* err = nullptr;
  int rc = sqlite3_exec(db_, s.c_str(), nullptr, nullptr, &err);
  sqlite3_free(err);
  if (rc != SQLITE_OK) return SqlError(db_, "sql exec failed");
  return {};
}

Status Database::TruncateWal() {
  std::unique_lock<std::mutex> paused;
  if (checkpointer_) paused = checkpointer_->PauseCopies();
  int busy = 0;
  {
    Statement st(*this, "PRAGMA wal_checkpoint(TRUNCATE)");  // row: busy, log pages, copied
    if (st.Step()) busy = static_cast<int>(st.Int(0));
    KRING_RETURN_IF_ERROR(st.status());
  }
  if (busy != 0) return Status(StatusCode::kUnavailable, "write-ahead log not emptied: busy");
  return {};
}

Status Database::Migrate(const std::vector<std::string_view>& migrations) {
  int64_t version = 0;
  {
    Statement st(*this, "PRAGMA user_version");
    if (st.Step()) version = st.Int(0);
    KRING_RETURN_IF_ERROR(st.status());
  }
  if (version > static_cast<int64_t>(migrations.size())) {
    return FailedPrecondition("database schema is newer than this program");
  }
  for (size_t i = static_cast<size_t>(version); i < migrations.size(); ++i) {
    Transaction tx(*this);
    KRING_RETURN_IF_ERROR(tx.status());
    KRING_RETURN_IF_ERROR(Exec(migrations[i]));
    KRING_RETURN_IF_ERROR(Exec("PRAGMA user_version=" + std::to_string(i + 1)));
    KRING_RETURN_IF_ERROR(tx.Commit());
  }
  return {};
}

Statement::Statement(const Database& db, std::string_view sql) : db_(db.handle()) {
  if (db.cache_) {
    auto& idle = db.cache_->idle;
    auto it = idle.find(sql);
    if (it == idle.end() && idle.size() < kMaxCachedSqlTexts) {
      it = idle.emplace(std::string(sql), std::vector<sqlite3_stmt*>{}).first;
    }
    if (it != idle.end()) {
      cache_ = db.cache_;
      idle_ = &it->second;  // map nodes do not move, so the pointer stays valid
      if (!idle_->empty()) {
        stmt_ = idle_->back();
        idle_->pop_back();
        return;
      }
    }
  }
  // PERSISTENT: the statement is kept and reused, so SQLite allocates it for the long term.
  const unsigned flags = idle_ != nullptr ? SQLITE_PREPARE_PERSISTENT : 0;
  if (sqlite3_prepare_v3(db_, sql.data(), static_cast<int>(sql.size()), flags, &stmt_, nullptr) !=
      SQLITE_OK) {
    status_ = SqlError(db_, "sql prepare failed");
  }
}

Statement::~Statement() {
  if (stmt_ == nullptr) return;
  // Reset ends the statement's read transaction; clearing the bindings frees their copies.
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
  if (idle_ != nullptr && !cache_->closed && idle_->size() < kMaxIdlePerSql) {
    idle_->push_back(stmt_);
  } else {
    sqlite3_finalize(stmt_);
  }
}

Statement& Statement::Bind(int index, int64_t value) {
  if (status_.ok() && sqlite3_bind_int64(stmt_, index, value) != SQLITE_OK) {
    status_ = SqlError(db_, "sql bind failed");
  }
  return *this;
}

Statement& Statement::Bind(int index, ByteView blob) {
  // An empty blob is stored as a zero-length blob, not NULL.
  static const uint8_t kEmpty = 0;
  const void* data = blob.empty() ? &kEmpty : blob.data();
  if (status_.ok() &&
      sqlite3_bind_blob64(stmt_, index, data, blob.size(), SQLITE_TRANSIENT) != SQLITE_OK) {
    status_ = SqlError(db_, "sql bind failed");
  }
  return *this;
}

Statement& Statement::BindBorrowed(int index, ByteView blob) {
  static const uint8_t kEmpty = 0;
  const void* data = blob.empty() ? &kEmpty : blob.data();
  if (status_.ok() &&
      sqlite3_bind_blob64(stmt_, index, data, blob.size(), SQLITE_STATIC) != SQLITE_OK) {
    status_ = SqlError(db_, "sql bind failed");
  }
  return *this;
}

Statement& Statement::BindText(int index, std::string_view text) {
  if (status_.ok() && sqlite3_bind_text64(stmt_, index, text.data(), text.size(), SQLITE_TRANSIENT,
                                          SQLITE_UTF8) != SQLITE_OK) {
    status_ = SqlError(db_, "sql bind failed");
  }
  return *this;
}

Statement& Statement::BindNull(int index) {
  if (status_.ok() && sqlite3_bind_null(stmt_, index) != SQLITE_OK) {
    status_ = SqlError(db_, "sql bind failed");
  }
  return *this;
}

bool Statement::Step() {
  if (!status_.ok()) return false;
  int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc != SQLITE_DONE) status_ = SqlError(db_, "sql step failed");
  return false;
}

Status Statement::Run() {
  while (Step()) {
  }
  return status_;
}

void Statement::Reset() {
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
}

Bytes Statement::Blob(int col) const {
  const auto* p = static_cast<const uint8_t*>(sqlite3_column_blob(stmt_, col));
  int n = sqlite3_column_bytes(stmt_, col);
  if (p == nullptr || n <= 0) return {};
  return Bytes(p, p + n);
}

std::string Statement::BlobString(int col) const {
  const auto* p = static_cast<const char*>(sqlite3_column_blob(stmt_, col));
  int n = sqlite3_column_bytes(stmt_, col);
  if (p == nullptr || n <= 0) return {};
  return std::string(p, static_cast<size_t>(n));
}

std::string Statement::Text(int col) const {
  const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, col));
  return p ? std::string(p) : std::string();
}

namespace {

// Transaction control through the statement cache: sqlite3_exec compiles its text on every call,
// which cost kringd's writer more than a one-op push's insert (docs/performance.md).
Status RunCached(const Database& db, std::string_view sql) { return Statement(db, sql).Run(); }

}  // namespace

Transaction::Transaction(Database& db) : db_(db) { status_ = RunCached(db_, "BEGIN IMMEDIATE"); }
Transaction::~Transaction() {
  if (status_.ok() && !done_) (void)RunCached(db_, "ROLLBACK");
}
Status Transaction::Commit() {
  KRING_RETURN_IF_ERROR(status_);
  Status s = RunCached(db_, "COMMIT");
  if (s.ok()) done_ = true;
  return s;
}

Savepoint::Savepoint(Database& db, std::string name) : db_(db), name_(std::move(name)) {
  status_ = RunCached(db_, "SAVEPOINT " + name_);
}
Savepoint::~Savepoint() {
  if (status_.ok() && !done_) (void)Rollback();
}
Status Savepoint::Rollback() {
  KRING_RETURN_IF_ERROR(status_);
  done_ = true;
  KRING_RETURN_IF_ERROR(RunCached(db_, "ROLLBACK TO " + name_));
  return RunCached(db_, "RELEASE " + name_);
}
Status Savepoint::RollbackTo() {
  KRING_RETURN_IF_ERROR(status_);
  if (done_) return Internal("savepoint already ended");
  return RunCached(db_, "ROLLBACK TO " + name_);
}
Status Savepoint::Release() {
  KRING_RETURN_IF_ERROR(status_);
  Status s = RunCached(db_, "RELEASE " + name_);
  if (s.ok()) done_ = true;
  return s;
}

}  // namespace kring::sql
