/* Compiled as C99 with -pedantic -Werror -Wall -Wextra: proves kring.h is a C header, and checks
 * from C that every function is NULL-safe and resets its outputs on failure. */
#include <stdio.h>
#include <string.h>

#include "kring/kring.h"

#include "abi_c99.h"

static int failures;

#define EXPECT(cond)                                                        \
  do {                                                                      \
    if (!(cond)) {                                                          \
      ++failures;                                                           \
      fprintf(stderr, "c99 check failed: %s (line %d)\n", #cond, __LINE__); \
    }                                                                       \
  } while (0)

static uint8_t junk_byte = 0xAB;
static char junk_char = 'x';

static void junk_bytes(kring_bytes* b) {
  b->data = &junk_byte;
  b->len = 99;
}

static int is_reset(const kring_bytes* b) { return b->data == NULL && b->len == 0; }

/* An error out-param must be set for a failure and carry the same code. */
static void check_invalid(kring_status s, kring_error* err, int line) {
  if (s != KRING_ERR_INVALID_ARGUMENT || err == NULL ||
      kring_error_code(err) != KRING_ERR_INVALID_ARGUMENT ||
      strlen(kring_error_message(err)) == 0) {
    ++failures;
    fprintf(stderr, "c99 check failed: expected INVALID_ARGUMENT with an error (line %d)\n", line);
  }
  kring_error_free(err);
}
/* The call runs first: it sets `err`, which is then read. */
#define expect_invalid(call, err)          \
  do {                                     \
    kring_status status_ = (call);         \
    check_invalid(status_, err, __LINE__); \
  } while (0)

static int frees;
static void count_free(void* user_data) {
  (void)user_data;
  ++frees;
}
static void on_change(void* user_data, kring_change_kind kind, const uint8_t* case_id,
                      size_t case_id_len, const char* detail) {
  (void)user_data;
  (void)kind;
  (void)case_id;
  (void)case_id_len;
  (void)detail;
}

static void on_change_event(void* user_data, const kring_change_event* event) {
  (void)user_data;
  (void)event;
}
static void on_done(void* user_data, kring_status status, const kring_error* error) {
  (void)user_data;
  (void)status;
  (void)error;
}

int abi_c99_null_safety(void) {
  static const uint8_t id[16] = {1};
  kring_error* err = NULL;
  kring_bytes b1;
  kring_bytes b2;
  char* s1 = &junk_char;
  char* s2 = &junk_char;
  size_t count = 7;
  uint64_t u1 = 7;
  uint64_t u2 = 7;
  kring_client* client = (kring_client*)&junk_char;
  failures = 0;

  /* Free functions and accessors accept NULL. */
  kring_error_free(NULL);
  kring_bytes_free(NULL);
  b1.data = NULL;
  b1.len = 5;
  kring_bytes_free(&b1);
  EXPECT(is_reset(&b1));
  kring_string_free(NULL);
  kring_client_close(NULL);
  EXPECT(kring_error_code(NULL) == KRING_ERR_INVALID_ARGUMENT);
  EXPECT(strcmp(kring_error_message(NULL), "") == 0);
  EXPECT(strcmp(kring_status_name((kring_status)1000), "UNKNOWN") == 0);
  EXPECT(strcmp(kring_error_user_text(NULL, "nl"), "") == 0);
  EXPECT(strcmp(kring_error_user_text(NULL, NULL), "") == 0);
  EXPECT(strcmp(kring_error_reason(NULL), "") == 0);

  /* open: NULL inputs and outputs. */
  expect_invalid(kring_client_open(KRING_ABI_VERSION, NULL, id, 16, NULL, NULL, 0, &client, &err),
                 err);
  EXPECT(client == NULL);
  EXPECT(kring_client_open(KRING_ABI_VERSION, "x.db", NULL, 32, NULL, NULL, 0, &client, NULL) ==
         KRING_ERR_INVALID_ARGUMENT);
  EXPECT(kring_client_open(KRING_ABI_VERSION, "x.db", id, 16, NULL, NULL, 0, NULL, NULL) ==
         KRING_ERR_INVALID_ARGUMENT);

  /* Every client function with a NULL client; outputs junked first must come back reset. */
  junk_bytes(&b1);
  s1 = &junk_char;
  s2 = &junk_char;
  expect_invalid(kring_client_create_account(NULL, &b1, &s1, &s2, &err), err);
  EXPECT(is_reset(&b1) && s1 == NULL && s2 == NULL);

  junk_bytes(&b1);
  junk_bytes(&b2);
  s1 = &junk_char;
  expect_invalid(kring_client_account(NULL, &b1, &b2, &s1, &err), err);
  EXPECT(is_reset(&b1) && is_reset(&b2) && s1 == NULL);

  s1 = &junk_char;
  expect_invalid(kring_client_safety_number_of(NULL, id, 16, &s1, &err), err);
  EXPECT(s1 == NULL);

  junk_bytes(&b1);
  expect_invalid(kring_client_create_case(NULL, id, 0, &b1, &err), err);
  EXPECT(is_reset(&b1));

  junk_bytes(&b1);
  expect_invalid(kring_client_cases(NULL, &b1, &err), err);
  EXPECT(is_reset(&b1));

  /* ABI 2: membership and invitations. */
  junk_bytes(&b1);
  expect_invalid(kring_client_create_case_with_history(NULL, id, 0, 1, &b1, &err), err);
  EXPECT(is_reset(&b1));

  expect_invalid(kring_client_add_member(NULL, id, 16, id, 16, KRING_ROLE_MEMBER, &err), err);

  s1 = &junk_char;
  expect_invalid(kring_client_remove_member(NULL, id, 16, id, 16, "nl", &s1, &err), err);
  EXPECT(s1 == NULL);
  EXPECT(kring_client_remove_member(NULL, NULL, 0, NULL, 0, NULL, NULL, NULL) ==
         KRING_ERR_INVALID_ARGUMENT);

  junk_bytes(&b1);
  s1 = &junk_char;
  s2 = &junk_char;
  expect_invalid(
      kring_client_create_invite(NULL, id, 16, KRING_ROLE_MEMBER, 3600, &b1, &s1, &s2, &err), err);
  EXPECT(is_reset(&b1) && s1 == NULL && s2 == NULL);

  expect_invalid(kring_client_revoke_invite(NULL, id, 16, id, 16, &err), err);

  junk_bytes(&b1);
  expect_invalid(kring_client_accept_invite(NULL, NULL, &b1, &err), err);
  EXPECT(is_reset(&b1));
  EXPECT(kring_client_accept_invite(NULL, NULL, NULL, NULL) == KRING_ERR_INVALID_ARGUMENT);

  expect_invalid(kring_client_approve_member(NULL, id, 16, id, 16, &err), err);
  expect_invalid(kring_client_decline_member(NULL, NULL, 0, NULL, 0, &err), err);
  expect_invalid(kring_client_set_role(NULL, id, 16, id, 16, KRING_ROLE_MEMBER, &err), err);
  EXPECT(kring_client_set_role(NULL, NULL, 0, NULL, 0, KRING_ROLE_MEMBER, NULL) ==
         KRING_ERR_INVALID_ARGUMENT);
  EXPECT(KRING_CHANGE_REMOVED_FROM_CASE == 3);

  /* ABI 3: leaving a case, epoch fingerprints. */
  s1 = &junk_char;
  expect_invalid(kring_client_leave_case(NULL, id, 16, "en", &s1, &err), err);
  EXPECT(s1 == NULL);
  EXPECT(kring_client_leave_case(NULL, NULL, 0, NULL, NULL, NULL) == KRING_ERR_INVALID_ARGUMENT);

  s1 = &junk_char;
  expect_invalid(kring_client_epoch_fingerprint(NULL, id, 16, &s1, &err), err);
  EXPECT(s1 == NULL);
  EXPECT(kring_client_epoch_fingerprint(NULL, NULL, 0, NULL, NULL) == KRING_ERR_INVALID_ARGUMENT);

  /* ABI 4: devices of an account. */
  s1 = &junk_char;
  s2 = &junk_char;
  expect_invalid(kring_client_request_device_link(NULL, &s1, &s2, &err), err);
  EXPECT(s1 == NULL && s2 == NULL);
  EXPECT(kring_client_request_device_link(NULL, NULL, NULL, NULL) == KRING_ERR_INVALID_ARGUMENT);

  s1 = &junk_char;
  expect_invalid(kring_client_approve_device_link(NULL, "p", "1234 5678", &s1, &err), err);
  EXPECT(s1 == NULL);
  EXPECT(kring_client_approve_device_link(NULL, NULL, NULL, NULL, NULL) ==
         KRING_ERR_INVALID_ARGUMENT);

  junk_bytes(&b1);
  s1 = &junk_char;
  expect_invalid(kring_client_finish_device_link(NULL, "a", &b1, &s1, &err), err);
  EXPECT(is_reset(&b1) && s1 == NULL);
  EXPECT(kring_client_finish_device_link(NULL, NULL, NULL, NULL, NULL) ==
         KRING_ERR_INVALID_ARGUMENT);

  junk_bytes(&b1);
  expect_invalid(kring_client_devices(NULL, &b1, &err), err);
  EXPECT(is_reset(&b1));
  EXPECT(kring_client_devices(NULL, NULL, NULL) == KRING_ERR_INVALID_ARGUMENT);

  expect_invalid(kring_client_revoke_device(NULL, id, 16, &err), err);
  EXPECT(kring_client_revoke_device(NULL, NULL, 0, NULL) == KRING_ERR_INVALID_ARGUMENT);

  junk_bytes(&b1);
  s1 = &junk_char;
  expect_invalid(kring_client_restore_account(NULL, "k", NULL, 0, &b1, &s1, &err), err);
  EXPECT(is_reset(&b1) && s1 == NULL);
  EXPECT(kring_client_restore_account(NULL, NULL, NULL, 0, NULL, NULL, NULL) ==
         KRING_ERR_INVALID_ARGUMENT);

  expect_invalid(kring_client_submit(NULL, id, 16, id, 0, &err), err);

  junk_bytes(&b1);
  expect_invalid(kring_client_create_entity(NULL, id, 16, "t", &b1, &err), err);
  EXPECT(is_reset(&b1));

  expect_invalid(kring_client_set_field(NULL, id, 16, id, 16, "f", NULL, 0, &err), err);

  junk_bytes(&b1);
  expect_invalid(kring_client_add_to_set(NULL, id, 16, id, 16, "s", NULL, 0, &b1, &err), err);
  EXPECT(is_reset(&b1));

  expect_invalid(kring_client_remove_from_set(NULL, id, 16, id, 16, "s", id, 16, &err), err);
  expect_invalid(kring_client_delete_entity(NULL, id, 16, id, 16, &err), err);
  expect_invalid(kring_client_restore_entity(NULL, id, 16, id, 16, &err), err);

  junk_bytes(&b1);
  expect_invalid(kring_client_view(NULL, id, 16, &b1, &err), err);
  EXPECT(is_reset(&b1));
  junk_bytes(&b1);
  expect_invalid(kring_client_confirmed_view(NULL, id, 16, &b1, &err), err);
  EXPECT(is_reset(&b1));

  count = 7;
  expect_invalid(kring_client_pending_intents(NULL, id, 16, &count, &err), err);
  EXPECT(count == 0);

  junk_bytes(&b1);
  expect_invalid(kring_client_alarms(NULL, &b1, &err), err);
  EXPECT(is_reset(&b1));

  u1 = 7;
  u2 = 7;
  expect_invalid(kring_client_sync_now(NULL, &u1, &u2, &err), err);
  EXPECT(u1 == 0 && u2 == 0);
  EXPECT(kring_client_sync_now(NULL, NULL, NULL, NULL) == KRING_ERR_INVALID_ARGUMENT);

  expect_invalid(kring_client_sync_async(NULL, on_done, NULL, &err), err);

  u1 = 7;
  u2 = 7;
  expect_invalid(kring_client_sync_case(NULL, id, 16, &u1, &u2, &err), err);
  EXPECT(u1 == 0 && u2 == 0);
  EXPECT(kring_client_sync_case(NULL, NULL, 0, NULL, NULL, NULL) == KRING_ERR_INVALID_ARGUMENT);
  expect_invalid(kring_client_sync_case_async(NULL, id, 16, on_done, NULL, &err), err);

  junk_bytes(&b1);
  expect_invalid(kring_client_sync_now_report(NULL, &b1, &err), err);
  EXPECT(is_reset(&b1));
  EXPECT(kring_client_sync_now_report(NULL, NULL, NULL) == KRING_ERR_INVALID_ARGUMENT);
  junk_bytes(&b1);
  expect_invalid(kring_client_sync_case_report(NULL, id, 16, &b1, &err), err);
  EXPECT(is_reset(&b1));
  EXPECT(kring_client_sync_case_report(NULL, NULL, 0, NULL, NULL) == KRING_ERR_INVALID_ARGUMENT);

  /* A failing add_change_listener still takes ownership of user_data: freed exactly once. */
  frees = 0;
  u1 = 7;
  expect_invalid(kring_client_add_change_listener(NULL, on_change, NULL, count_free, &u1, &err),
                 err);
  EXPECT(u1 == 0);
  EXPECT(frees == 1);
  EXPECT(kring_client_add_change_listener(NULL, NULL, NULL, NULL, NULL, NULL) ==
         KRING_ERR_INVALID_ARGUMENT);
  /* ABI 6: the event listener, the same ownership rule. */
  frees = 0;
  u1 = 7;
  expect_invalid(
      kring_client_add_change_event_listener(NULL, on_change_event, NULL, count_free, &u1, &err),
      err);
  EXPECT(u1 == 0);
  EXPECT(frees == 1);
  EXPECT(kring_client_add_change_event_listener(NULL, NULL, NULL, NULL, NULL, NULL) ==
         KRING_ERR_INVALID_ARGUMENT);

  expect_invalid(kring_client_remove_change_listener(NULL, 1, &err), err);

  /* ABI 5: scopes, close and erase, domain calls. */
  {
    uint32_t scope = 7;
    expect_invalid(kring_client_create_scope(NULL, id, 16, id, 16, &scope, &err), err);
    EXPECT(scope == 0);
    EXPECT(kring_client_create_scope(NULL, NULL, 0, NULL, 0, NULL, NULL) ==
           KRING_ERR_INVALID_ARGUMENT);
    expect_invalid(kring_client_set_scope_members(NULL, id, 16, 1, id, 16, &err), err);
    junk_bytes(&b1);
    expect_invalid(kring_client_create_entity_in_scope(NULL, id, 16, "t", 1, &b1, &err), err);
    EXPECT(is_reset(&b1));
    expect_invalid(kring_client_submit_in_scope(NULL, id, 16, id, 0, 1, &err), err);
    scope = 7;
    expect_invalid(kring_client_scope_of(NULL, id, 16, id, 16, &scope, &err), err);
    EXPECT(scope == 0);
    expect_invalid(kring_client_close_case(NULL, id, 16, 30, &err), err);
    expect_invalid(kring_client_erase_case(NULL, id, 16, &err), err);
    junk_bytes(&b1);
    expect_invalid(kring_client_domain_call(NULL, id, 16, id, 0, &b1, &err), err);
    EXPECT(is_reset(&b1));
    EXPECT(kring_client_domain_call(NULL, NULL, 0, NULL, 0, NULL, NULL) ==
           KRING_ERR_INVALID_ARGUMENT);
  }

  return failures;
}
