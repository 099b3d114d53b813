#include "session.h"

#include <sodium.h>
#include <termios.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <string>
#include <utility>

#include "kring/common/crypto.h"
#include "kring/common/refusal.h"
#include "kring/domain/messages.h"

#include "domain_ctx.h"

namespace kring::cli {
namespace {

constexpr size_t kMaxPassphraseBytes = 1024;

constexpr size_t kMinNewPassphraseChars = 8;

// Characters, not bytes: "geheim€€" is eight.
size_t CharCount(const std::string& s) {
  size_t n = 0;
  for (char c : s) n += (static_cast<unsigned char>(c) & 0xC0) != 0x80 ? 1 : 0;
  return n;
}

// From --passphrase-file (its first line), KRING_PASSPHRASE, or typed without echo. A new
// passphrase typed at a terminal is asked twice: a typing error there would lock the store for
// good, as nothing can recover a forgotten passphrase.
Result<std::string> ReadPassphrase(const Options& o, bool new_store) {
  if (!o.passphrase_file.empty()) {
    // The path is not repeated in the message: it may hold a person's name.
    std::ifstream in(o.passphrase_file);
    if (!in) return InvalidArgument(Text(Msg::kPassphraseFileUnreadable));
    std::string line;
    std::getline(in, line);
    return line;
  }
  if (const char* env = std::getenv("KRING_PASSPHRASE")) return std::string(env);
  std::string line = ReadLine(Msg::kPassphrasePrompt, nullptr, /*hide=*/true);
  if (new_store && isatty(STDIN_FILENO) && !line.empty()) {
    std::string again = ReadLine(Msg::kPassphraseRepeat, nullptr, /*hide=*/true);
    const bool same =
        again.size() == line.size() && sodium_memcmp(again.data(), line.data(), line.size()) == 0;
    sodium_memzero(again.data(), again.size());
    if (!same) {
      sodium_memzero(line.data(), line.size());
      return InvalidArgument(Text(Msg::kPassphraseMismatch));
    }
  }
  return line;
}

// The storage key is derived from the passphrase with Argon2id and a per-store random salt kept
// next to the database; a wrong passphrase fails when the store is opened. No salt yet means a
// new store, whose passphrase must be long enough; an existing store opens with the one it has.
Result<SecretBytes> StorageKey(const Options& o) {
  const std::string salt_path = o.db + ".salt";
  std::ifstream in(salt_path, std::ios::binary);
  const bool new_store = !in;
  KRING_ASSIGN_OR_RETURN(std::string passphrase, ReadPassphrase(o, new_store));
  // Wiped on every way out, errors included.
  struct Wipe {
    std::string& s;
    ~Wipe() { sodium_memzero(s.data(), s.size()); }
  } wipe{passphrase};
  if (passphrase.empty() || passphrase.size() > kMaxPassphraseBytes) {
    return InvalidArgument(Text(Msg::kPassphraseEmpty));
  }
  if (new_store && CharCount(passphrase) < kMinNewPassphraseChars) {
    return InvalidArgument(Text(Msg::kPassphraseTooShort));
  }
  // The salt file's path is not put into a message: it holds the store's (profile) name.
  Bytes salt(crypto_pwhash_SALTBYTES);
  if (!new_store) {
    in.read(reinterpret_cast<char*>(salt.data()), static_cast<std::streamsize>(salt.size()));
    if (in.gcount() != static_cast<std::streamsize>(salt.size())) {
      return DataLoss(Text(Msg::kSaltDamaged));
    }
  } else {
    salt = crypto::RandomBytes(salt.size());
    std::ofstream out(salt_path, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(salt.data()),
              static_cast<std::streamsize>(salt.size()));
    if (!out) return Internal(Text(Msg::kSaltUnwritable));
  }
  SecretBytes key(crypto::kKeyBytes);
  if (crypto_pwhash(key.data(), key.size(), passphrase.data(), passphrase.size(), salt.data(),
                    crypto_pwhash_OPSLIMIT_INTERACTIVE, crypto_pwhash_MEMLIMIT_INTERACTIVE,
                    crypto_pwhash_ALG_ARGON2ID13) != 0) {
    return Status(StatusCode::kResourceExhausted, "not enough memory to derive the key");
  }
  return key;
}

}  // namespace

int Fail(const Status& s) {
  // A transient refusal with a reason the library explains (kringd's limit per address, which
  // passes by itself) says what it is: "cannot be reached" would send the user to check their
  // network for nothing.
  if (s.transient() && !domain::HasUserText(refusal::TextKey(s.reason()))) {
    std::cerr << Text(Msg::kOffline) << "\n";
    return 1;
  }
  std::cerr << Text(Msg::kError) << ": " << Explain(s.message(), s.reason()) << "\n";
  if (s.code() == StatusCode::kInvalidArgument && s.reason() == kUsageReason) return 2;
  return s.code() == StatusCode::kSecurityAlarm || IsHaltedCase(s) ? 3 : 1;
}

namespace {

// Prints what the sync reported (refusals, removal, alarm); the exit code they call for.
int PrintReports(const Reports& reports) {
  int rc = 0;
  for (const Reports::Rejected& r : reports.rejected) {
    std::cerr << Text(Msg::kNotAccepted) << ": " << Explain(r.detail, r.reason);
    // One line for many changes (a closed case rejects all of them at once): how many.
    if (r.count > 1) std::cerr << " (" << r.count << " " << Text(Msg::kChangesNotApplied) << ")";
    std::cerr << "\n";
    rc = 1;
  }
  if (reports.removed) std::cerr << Text(Msg::kRemovedNote) << "\n";
  if (reports.alarm) {
    std::cerr << Text(Msg::kAlarmNote) << "\n";
    rc = 3;
  }
  return rc;
}

int SettleAfter(const Result<client::SyncStats>& r, Reports& reports, bool edit, bool quiet,
                bool* synced = nullptr, client::SyncStats* stats = nullptr) {
  if (stats != nullptr && r.ok()) *stats = r.value();
  if (r.ok()) {
    // A change of this device that reached the log but a rule refused (another's came first):
    // how many and why, per case, never what they were. On stderr: with --json, stdout holds
    // the result document.
    std::map<std::pair<Bytes, std::string>, size_t> refused;
    for (const client::RefusedChange& change : r->refused) {
      ++refused[{change.case_id, change.reason}];
    }
    for (const auto& [what, count] : refused) {
      std::cerr << Text(Msg::kRefusedChanges) << " " << count << " (--case " << Hex(what.first)
                << "). " << Text(Msg::kRefusedWhy) << " " << KeyText(what.second) << "\n";
    }
  }
  const int rc = PrintReports(reports);
  if (synced != nullptr) *synced = r.ok() && rc == 0;
  if (!r.ok()) {
    if (r.status().transient() && edit) {
      std::cerr << Text(Msg::kEditStoredOffline) << "\n";
      return rc;
    }
    return rc != 0 ? rc : Fail(r.status());
  }
  if (edit && rc == 0 && !quiet) std::cerr << Text(Msg::kEditStored) << "\n";
  return rc;
}

}  // namespace

int Settle(client::Client& c, Reports& reports, bool edit, bool quiet, bool* synced,
           client::SyncStats* stats) {
  return SettleAfter(c.SyncNow(), reports, edit, quiet, synced, stats);
}

int SettleInvite(client::Client& c, Reports& reports, const client::Invitation& inv, bool json) {
  bool synced = false;
  const int rc = Settle(c, reports, false, false, &synced);
  if (json) {
    PrintJson(JObj({{"id", JId(inv.invite_id)},
                    {"invite", JId(inv.invite_id)},
                    {"link", JStr(inv.link)},
                    {"synced", JBool(synced)}}));
    return rc;
  }
  if (rc != 0) return rc;
  // "link" is the Dutch word too (the note below says "Stuur deze link").
  std::cout << Text(Msg::kInviteMade) << " " << Hex(inv.invite_id) << "\nlink " << inv.link << "\n";
  std::cerr << Text(Msg::kInviteNote) << "\n";
  return 0;
}

int SettleCase(client::Client& c, Reports& reports, const Bytes& case_id,
               client::SyncStats* stats) {
  return SettleAfter(c.SyncCase(case_id), reports, /*edit=*/false, /*quiet=*/false,
                     /*synced=*/nullptr, stats);
}

int FetchCaseFirst(client::Client& c, Reports& reports, const Bytes& case_id) {
  auto pulled = c.SyncCase(case_id);
  if (pulled.ok() || pulled.status().transient()) return 0;
  return SettleAfter(pulled, reports, /*edit=*/false, /*quiet=*/false);
}

int SettleControl(client::Client& c, Reports& reports, const Bytes& case_id,
                  const std::function<Status()>& queue, Msg done, bool json) {
  // Decided on this change's own intent, not on whatever else of the case waits.
  auto before = c.QueuedIntentIds(case_id);
  if (!before.ok()) return Fail(before.status());
  if (Status s = queue(); !s.ok()) return Fail(s);
  auto after = c.QueuedIntentIds(case_id);
  if (!after.ok()) return Fail(after.status());
  std::optional<Bytes> mine;
  // The first new one: a change may queue edits after itself (an approval links the person).
  for (const Bytes& id : *after) {
    if (!mine && std::find(before->begin(), before->end(), id) == before->end()) mine = id;
  }
  if (!mine) return Fail(Internal("the queued change was not found"));
  // This case only, as the command acts on it alone.
  auto synced = c.SyncCase(case_id);
  // Another change's refusal is shown but does not make this one fail; an alarm always counts.
  const int alarm = PrintReports(reports) == 3 ? 3 : 0;
  auto outcome = c.OutcomeOf(case_id, *mine);
  if (!outcome.ok()) return Fail(outcome.status());
  switch (*outcome) {
    case client::IntentOutcome::kRejected:
      return alarm != 0 ? alarm : 1;  // its reason came with the rejection, printed above
    case client::IntentOutcome::kQueued:
      // Offline it waits; any other failure of the sync is the user's to know.
      if (!synced.ok() && !synced.status().transient()) {
        return alarm != 0 ? alarm : Fail(synced.status());
      }
      if (json && alarm == 0) {
        PrintJson(JObj({{"ok", JBool(true)}, {"synced", JBool(false)}}));
      } else if (!json) {
        std::cout << Text(Msg::kControlQueued) << "\n";
      }
      return alarm;
    case client::IntentOutcome::kDone:
      break;
  }
  if (json && alarm == 0) {
    PrintJson(JObj({{"ok", JBool(true)}, {"synced", JBool(true)}}));
  } else if (!json) {
    std::cout << Text(done) << "\n";
  }
  return alarm;
}

std::string ReadLine(Msg prompt, const char* env, bool hide) {
  if (env != nullptr) {
    if (const char* value = std::getenv(env)) return value;
  }
  std::cerr << Text(prompt);
  termios old{};
  bool tty = hide && isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &old) == 0;
  if (tty) {
    termios quiet = old;
    quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
    tcsetattr(STDIN_FILENO, TCSANOW, &quiet);
  }
  std::string line;
  std::getline(std::cin, line);
  if (tty) {
    tcsetattr(STDIN_FILENO, TCSANOW, &old);
    std::cerr << "\n";
  }
  return line;
}

Result<std::unique_ptr<client::Client>> OpenClient(const Options& o, NewStore new_store) {
  if (new_store == NewStore::kRefuse && !std::filesystem::exists(o.db) &&
      !std::filesystem::exists(o.db + ".salt")) {
    return NotFound(Text(Msg::kNoStore));
  }
  KRING_ASSIGN_OR_RETURN(SecretBytes key, StorageKey(o));
  client::ClientOptions options;
  options.db_path = o.db;
  options.storage_key = std::move(key);
  options.transport = client::MakeGrpcTransport(o.server);
  options.background_sync = false;
  auto c = client::Client::Open(std::move(options));
  if (!c.ok() && c.status().code() == StatusCode::kPermissionDenied) {
    return Status(StatusCode::kPermissionDenied, Text(Msg::kWrongPassphrase));
  }
  return c;
}

std::optional<Bytes> ParseId(const std::string& hex) {
  auto b = FromHex(hex);
  if (!b || b->size() != crypto::kIdBytes) return std::nullopt;
  return b;
}

int Usage() {
  std::cerr << Text(Msg::kUsage);
  return 2;
}

int BadId() {
  std::cerr << Text(Msg::kBadId) << "\n";
  return 2;
}

int BadId(const std::string& what) {
  std::cerr << Text(Msg::kError) << ": " << what << ": " << Text(Msg::kBadId) << "\n";
  return 2;
}

void Listen(client::Client& c, Reports& reports) {
  c.AddChangeListener([&reports](const client::ChangeEvent& e) {
    if (e.kind == client::ChangeEvent::Kind::kIntentRejected)
      reports.rejected.push_back({e.detail, e.reason, e.count});
    if (e.kind == client::ChangeEvent::Kind::kRemovedFromCase) reports.removed = true;
    if (e.kind == client::ChangeEvent::Kind::kAlarm) reports.alarm = true;
  });
}

domain::Language CurrentLanguage() {
  return Text(Msg::kLanguageTag) == std::string("en") ? domain::Language::kEnglish
                                                      : domain::Language::kDutch;
}

}  // namespace kring::cli
