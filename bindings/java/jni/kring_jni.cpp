// JNI for nl.kring.KringClient over the C ABI (kring.h); this file uses nothing else of libkring.
// Errors become nl.kring.KringException(code, message); strings cross as NUL-terminated UTF-8
// byte arrays (JNI's "modified UTF-8" differs from UTF-8). Callbacks arrive on libkring's threads,
// which are attached to the JVM as daemons and detached when they end.
#include <jni.h>

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "kring/kring.h"

namespace {

JavaVM* g_vm = nullptr;
jclass g_exception_class = nullptr;       // nl.kring.KringException
jmethodID g_exception_ctor = nullptr;     // (int, String, String, String, String)
jclass g_object_class = nullptr;          // java.lang.Object
jclass g_string_class = nullptr;          // java.lang.String
jmethodID g_string_from_bytes = nullptr;  // String(byte[], String charsetName)
jstring g_utf8_charset_name = nullptr;    // "UTF-8", a global reference
// NativeListener.onNative(int, byte[], byte[], String, String, String, long)
jmethodID g_listener_on_native = nullptr;
jmethodID g_future_complete = nullptr;      // CompletableFuture.complete(Object)
jmethodID g_future_complete_exc = nullptr;  // CompletableFuture.completeExceptionally(Throwable)

// Detaches a libkring thread this file attached, when that thread ends.
struct ThreadAttachment {
  bool attached = false;
  ~ThreadAttachment() {
    if (attached && g_vm != nullptr) g_vm->DetachCurrentThread();
  }
};
thread_local ThreadAttachment tls_attachment;

JNIEnv* CallbackEnv() {
  JNIEnv* env = nullptr;
  if (g_vm->GetEnv(reinterpret_cast<void**>(&env), JNI_VERSION_1_8) == JNI_OK) return env;
  if (g_vm->AttachCurrentThreadAsDaemon(reinterpret_cast<void**>(&env), nullptr) != JNI_OK) {
    return nullptr;
  }
  tls_attachment.attached = true;
  return env;
}

// Java String from UTF-8. NewStringUTF takes modified UTF-8, which differs from UTF-8 only for
// NUL and non-BMP text: ASCII (every event's empty texts, the reason keys) goes straight through
// it; anything else through String(byte[], "UTF-8") with the class, constructor and charset name
// looked up once in JNI_OnLoad.
jstring Utf8String(JNIEnv* env, const char* s) {
  if (s == nullptr) s = "";
  size_t n = 0;
  bool ascii = true;
  for (; s[n] != '\0'; ++n) ascii = ascii && static_cast<unsigned char>(s[n]) < 0x80;
  if (ascii) return env->NewStringUTF(s);
  jbyteArray bytes = env->NewByteArray(static_cast<jsize>(n));
  if (bytes == nullptr) return nullptr;
  env->SetByteArrayRegion(bytes, 0, static_cast<jsize>(n), reinterpret_cast<const jbyte*>(s));
  auto out = static_cast<jstring>(
      env->NewObject(g_string_class, g_string_from_bytes, bytes, g_utf8_charset_name));
  env->DeleteLocalRef(bytes);
  return out;
}

// A KringException with the library's message, the server's refusal reason and, for a domain
// error or a known refusal, its user texts.
jthrowable NewKringException(JNIEnv* env, kring_status status, const char* message,
                             const kring_error* err) {
  jstring msg = Utf8String(env, message);
  jstring reason = env->NewStringUTF(kring_error_reason(err));  // ASCII
  jstring nl = Utf8String(env, kring_error_user_text(err, "nl"));
  jstring en = Utf8String(env, kring_error_user_text(err, "en"));
  jthrowable ex = nullptr;
  if (msg != nullptr && reason != nullptr && nl != nullptr && en != nullptr) {
    ex = static_cast<jthrowable>(env->NewObject(g_exception_class, g_exception_ctor,
                                                static_cast<jint>(status), msg, reason, nl, en));
  }  // else OutOfMemoryError pending
  if (msg != nullptr) env->DeleteLocalRef(msg);
  if (reason != nullptr) env->DeleteLocalRef(reason);
  if (nl != nullptr) env->DeleteLocalRef(nl);
  if (en != nullptr) env->DeleteLocalRef(en);
  return ex;
}
jthrowable NewKringException(JNIEnv* env, kring_status status, const char* message) {
  return NewKringException(env, status, message, nullptr);
}

// Throws the error as a KringException (and frees it). Returns true when something was thrown.
// `err` is taken by reference: callers write Check(env, kring_x(..., &err), err), and the order
// in which arguments are evaluated is unspecified, so a copy could be the NULL from before the
// call (GCC reads it first, which lost every message and user text).
bool Check(JNIEnv* env, kring_status status, kring_error*& err) {
  if (status == KRING_OK) {
    kring_error_free(err);
    err = nullptr;
    return false;
  }
  jthrowable ex = NewKringException(env, status, kring_error_message(err), err);
  kring_error_free(err);
  err = nullptr;
  if (ex != nullptr) env->Throw(ex);
  return true;
}

void ThrowInvalid(JNIEnv* env, const char* message) {
  jthrowable ex = NewKringException(env, KRING_ERR_INVALID_ARGUMENT, message);
  if (ex != nullptr) env->Throw(ex);
}

// A Java byte[] copied for the duration of a call (NULL array -> null pointer, 0 length).
class JBytes {
 public:
  JBytes(JNIEnv* env, jbyteArray array) {
    if (array == nullptr) return;
    present_ = true;
    const jsize n = env->GetArrayLength(array);
    data_.resize(static_cast<size_t>(n));
    if (n > 0) env->GetByteArrayRegion(array, 0, n, reinterpret_cast<jbyte*>(data_.data()));
  }
  ~JBytes() { std::memset(data_.data(), 0, data_.size()); }  // may hold a key or content
  JBytes(const JBytes&) = delete;
  JBytes& operator=(const JBytes&) = delete;

  const uint8_t* data() const { return present_ ? data_.data() : nullptr; }
  size_t size() const { return data_.size(); }
  // For NUL-terminated UTF-8 from Java; NULL for a null array.
  const char* c_str() const {
    if (!present_ || data_.empty() || data_.back() != 0) return nullptr;
    return reinterpret_cast<const char*>(data_.data());
  }

 private:
  bool present_ = false;
  std::vector<uint8_t> data_;
};

jbyteArray NewBytes(JNIEnv* env, const uint8_t* data, size_t len) {
  jbyteArray out = env->NewByteArray(static_cast<jsize>(len));
  if (out != nullptr && len > 0) {
    env->SetByteArrayRegion(out, 0, static_cast<jsize>(len), reinterpret_cast<const jbyte*>(data));
  }
  return out;
}

// Takes a library buffer: copies it into a Java array and frees (wipes) it.
jbyteArray TakeBytes(JNIEnv* env, kring_bytes* b) {
  jbyteArray out = NewBytes(env, b->data, b->len);
  kring_bytes_free(b);
  return out;
}

jbyteArray TakeString(JNIEnv* env, char* s) {
  jbyteArray out =
      NewBytes(env, reinterpret_cast<const uint8_t*>(s), s == nullptr ? 0 : std::strlen(s));
  kring_string_free(s);
  return out;
}

kring_client* Client(jlong handle) {
  return reinterpret_cast<kring_client*>(static_cast<intptr_t>(handle));
}

// ---- Callbacks ----

void OnChange(void* user_data, const kring_change_event* e) {
  JNIEnv* env = CallbackEnv();
  if (env == nullptr || env->PushLocalFrame(16) != 0) return;
  // Each step only while nothing failed: no JNI call with an OutOfMemoryError pending.
  jbyteArray id = NewBytes(env, e->case_id, e->case_id_len);
  jbyteArray d = id == nullptr ? nullptr
                               : NewBytes(env, reinterpret_cast<const uint8_t*>(e->detail),
                                          std::strlen(e->detail));
  jstring reason = d == nullptr ? nullptr : env->NewStringUTF(e->reason);  // ASCII
  jstring nl = reason == nullptr ? nullptr : Utf8String(env, e->text_nl);
  jstring en = nl == nullptr ? nullptr : Utf8String(env, e->text_en);
  if (en != nullptr) {
    env->CallVoidMethod(static_cast<jobject>(user_data), g_listener_on_native,
                        static_cast<jint>(e->kind), id, d, reason, nl, en,
                        static_cast<jlong>(e->count));
  }
  if (env->ExceptionCheck()) env->ExceptionClear();  // nothing above us could handle it
  env->PopLocalFrame(nullptr);
}

void FreeGlobalRef(void* user_data) {
  JNIEnv* env = CallbackEnv();
  if (env != nullptr) env->DeleteGlobalRef(static_cast<jobject>(user_data));
}

void OnSyncDone(void* user_data, kring_status status, const kring_error* error) {
  JNIEnv* env = CallbackEnv();
  if (env == nullptr) return;
  auto future = static_cast<jobject>(user_data);
  if (status == KRING_OK) {
    env->CallBooleanMethod(future, g_future_complete, nullptr);
  } else {
    jthrowable ex = NewKringException(env, status, kring_error_message(error), error);
    if (ex != nullptr) {
      env->CallBooleanMethod(future, g_future_complete_exc, ex);
      env->DeleteLocalRef(ex);
    }
  }
  if (env->ExceptionCheck()) env->ExceptionClear();
  env->DeleteGlobalRef(future);
}

// kring_client_add_member and kring_client_set_role: a member of a case and a role.
using MemberRoleCall = kring_status (*)(kring_client*, const uint8_t*, size_t, const uint8_t*,
                                        size_t, kring_role, kring_error**);
void CallWithRole(JNIEnv* env, jlong handle, jbyteArray case_id, jbyteArray account_id, jint role,
                  MemberRoleCall call) {
  JBytes c(env, case_id);
  JBytes a(env, account_id);
  kring_error* err = nullptr;
  Check(env,
        call(Client(handle), c.data(), c.size(), a.data(), a.size(), static_cast<kring_role>(role),
             &err),
        err);
}

jclass GlobalClass(JNIEnv* env, const char* name) {
  jclass local = env->FindClass(name);
  if (local == nullptr) return nullptr;
  auto global = static_cast<jclass>(env->NewGlobalRef(local));
  env->DeleteLocalRef(local);
  return global;
}

}  // namespace

extern "C" {

JNIEXPORT jint JNI_OnLoad(JavaVM* vm, void*) {
  g_vm = vm;
  JNIEnv* env = nullptr;
  if (vm->GetEnv(reinterpret_cast<void**>(&env), JNI_VERSION_1_8) != JNI_OK) return JNI_ERR;
  // Built against this header; the loaded libkring must provide at least this ABI.
  if (kring_abi_version() < KRING_ABI_VERSION) return JNI_ERR;
  g_exception_class = GlobalClass(env, "nl/kring/KringException");
  g_object_class = GlobalClass(env, "java/lang/Object");
  g_string_class = GlobalClass(env, "java/lang/String");
  jclass listener = env->FindClass("nl/kring/KringClient$NativeListener");
  jclass future = env->FindClass("java/util/concurrent/CompletableFuture");
  if (g_exception_class == nullptr || g_object_class == nullptr || g_string_class == nullptr ||
      listener == nullptr || future == nullptr) {
    return JNI_ERR;
  }
  g_exception_ctor = env->GetMethodID(
      g_exception_class, "<init>",
      "(ILjava/lang/String;Ljava/lang/String;Ljava/lang/String;Ljava/lang/String;)V");
  g_listener_on_native = env->GetMethodID(
      listener, "onNative", "(I[B[BLjava/lang/String;Ljava/lang/String;Ljava/lang/String;J)V");
  g_future_complete = env->GetMethodID(future, "complete", "(Ljava/lang/Object;)Z");
  g_string_from_bytes = env->GetMethodID(g_string_class, "<init>", "([BLjava/lang/String;)V");
  jstring utf8 = env->NewStringUTF("UTF-8");
  g_utf8_charset_name = utf8 == nullptr ? nullptr : static_cast<jstring>(env->NewGlobalRef(utf8));
  g_future_complete_exc =
      env->GetMethodID(future, "completeExceptionally", "(Ljava/lang/Throwable;)Z");
  if (g_exception_ctor == nullptr || g_listener_on_native == nullptr ||
      g_future_complete == nullptr || g_future_complete_exc == nullptr ||
      g_string_from_bytes == nullptr || g_utf8_charset_name == nullptr) {
    return JNI_ERR;
  }
  return JNI_VERSION_1_8;
}

#define KRING_JNI(ret, name) JNIEXPORT ret JNICALL Java_nl_kring_KringClient_##name

KRING_JNI(jint, nativeIdSize)(JNIEnv*, jclass) { return static_cast<jint>(kring_id_size()); }

KRING_JNI(jint, nativeStorageKeySize)(JNIEnv*, jclass) {
  return static_cast<jint>(kring_storage_key_size());
}

KRING_JNI(jlong, nativeOpen)
(JNIEnv* env, jclass, jbyteArray db_path, jbyteArray storage_key, jbyteArray server,
 jbyteArray tls_roots, jboolean background) {
  JBytes db(env, db_path);
  JBytes key(env, storage_key);
  JBytes address(env, server);
  JBytes tls(env, tls_roots);
  kring_client* client = nullptr;
  kring_error* err = nullptr;
  kring_status s =
      kring_client_open(KRING_ABI_VERSION, db.c_str(), key.data(), key.size(), address.c_str(),
                        tls.c_str(), background ? 1 : 0, &client, &err);
  if (Check(env, s, err)) return 0;
  return static_cast<jlong>(reinterpret_cast<intptr_t>(client));
}

KRING_JNI(void, nativeClose)(JNIEnv*, jclass, jlong handle) { kring_client_close(Client(handle)); }

KRING_JNI(jobjectArray, nativeCreateAccount)(JNIEnv* env, jclass, jlong handle) {
  kring_bytes id{nullptr, 0};
  char* safety = nullptr;
  char* recovery = nullptr;
  kring_error* err = nullptr;
  if (Check(env, kring_client_create_account(Client(handle), &id, &safety, &recovery, &err), err)) {
    return nullptr;
  }
  jobjectArray out = env->NewObjectArray(3, g_object_class, nullptr);
  if (out != nullptr) {
    env->SetObjectArrayElement(out, 0, TakeBytes(env, &id));
    env->SetObjectArrayElement(out, 1, TakeString(env, safety));
    env->SetObjectArrayElement(out, 2, TakeString(env, recovery));
  } else {
    kring_bytes_free(&id);
    kring_string_free(safety);
    kring_string_free(recovery);
  }
  return out;
}

KRING_JNI(jobjectArray, nativeAccount)(JNIEnv* env, jclass, jlong handle) {
  kring_bytes id{nullptr, 0};
  kring_bytes device{nullptr, 0};
  char* safety = nullptr;
  kring_error* err = nullptr;
  if (Check(env, kring_client_account(Client(handle), &id, &device, &safety, &err), err)) {
    return nullptr;
  }
  jobjectArray out = env->NewObjectArray(3, g_object_class, nullptr);
  if (out != nullptr) {
    env->SetObjectArrayElement(out, 0, TakeBytes(env, &id));
    env->SetObjectArrayElement(out, 1, TakeBytes(env, &device));
    env->SetObjectArrayElement(out, 2, TakeString(env, safety));
  } else {
    kring_bytes_free(&id);
    kring_bytes_free(&device);
    kring_string_free(safety);
  }
  return out;
}

KRING_JNI(jbyteArray, nativeSafetyNumberOf)(JNIEnv* env, jclass, jlong handle, jbyteArray account) {
  JBytes id(env, account);
  char* safety = nullptr;
  kring_error* err = nullptr;
  if (Check(env, kring_client_safety_number_of(Client(handle), id.data(), id.size(), &safety, &err),
            err)) {
    return nullptr;
  }
  return TakeString(env, safety);
}

KRING_JNI(jbyteArray, nativeCreateCase)(JNIEnv* env, jclass, jlong handle, jbyteArray request) {
  JBytes req(env, request);
  kring_bytes id{nullptr, 0};
  kring_error* err = nullptr;
  if (Check(env, kring_client_create_case(Client(handle), req.data(), req.size(), &id, &err),
            err)) {
    return nullptr;
  }
  return TakeBytes(env, &id);
}

KRING_JNI(jbyteArray, nativeCases)(JNIEnv* env, jclass, jlong handle) {
  kring_bytes ids{nullptr, 0};
  kring_error* err = nullptr;
  if (Check(env, kring_client_cases(Client(handle), &ids, &err), err)) return nullptr;
  return TakeBytes(env, &ids);
}

KRING_JNI(jbyteArray, nativeCreateCaseWithHistory)
(JNIEnv* env, jclass, jlong handle, jbyteArray request, jboolean newcomers_read_history) {
  JBytes req(env, request);
  kring_bytes id{nullptr, 0};
  kring_error* err = nullptr;
  if (Check(env,
            kring_client_create_case_with_history(Client(handle), req.data(), req.size(),
                                                  newcomers_read_history ? 1 : 0, &id, &err),
            err)) {
    return nullptr;
  }
  return TakeBytes(env, &id);
}

KRING_JNI(void, nativeAddMember)
(JNIEnv* env, jclass, jlong handle, jbyteArray case_id, jbyteArray account_id, jint role) {
  CallWithRole(env, handle, case_id, account_id, role, kring_client_add_member);
}

KRING_JNI(jbyteArray, nativeRemoveMember)
(JNIEnv* env, jclass, jlong handle, jbyteArray case_id, jbyteArray account_id, jbyteArray lang) {
  JBytes c(env, case_id);
  JBytes a(env, account_id);
  JBytes l(env, lang);
  char* notice = nullptr;
  kring_error* err = nullptr;
  if (Check(env,
            kring_client_remove_member(Client(handle), c.data(), c.size(), a.data(), a.size(),
                                       l.c_str(), &notice, &err),
            err)) {
    return nullptr;
  }
  return TakeString(env, notice);
}

KRING_JNI(jbyteArray, nativeLeaveCase)
(JNIEnv* env, jclass, jlong handle, jbyteArray case_id, jbyteArray lang) {
  JBytes c(env, case_id);
  JBytes l(env, lang);
  char* notice = nullptr;
  kring_error* err = nullptr;
  if (Check(env,
            kring_client_leave_case(Client(handle), c.data(), c.size(), l.c_str(), &notice, &err),
            err)) {
    return nullptr;
  }
  return TakeString(env, notice);
}

KRING_JNI(jbyteArray, nativeEpochFingerprint)
(JNIEnv* env, jclass, jlong handle, jbyteArray case_id) {
  JBytes c(env, case_id);
  char* text = nullptr;
  kring_error* err = nullptr;
  if (Check(env, kring_client_epoch_fingerprint(Client(handle), c.data(), c.size(), &text, &err),
            err)) {
    return nullptr;
  }
  return TakeString(env, text);
}

KRING_JNI(jobjectArray, nativeCreateInvite)
(JNIEnv* env, jclass, jlong handle, jbyteArray case_id, jint role, jlong valid_for_seconds) {
  JBytes c(env, case_id);
  kring_bytes id{nullptr, 0};
  char* link = nullptr;
  char* qr = nullptr;
  kring_error* err = nullptr;
  if (Check(env,
            kring_client_create_invite(
                Client(handle), c.data(), c.size(), static_cast<kring_role>(role),
                static_cast<int64_t>(valid_for_seconds), &id, &link, &qr, &err),
            err)) {
    return nullptr;
  }
  jobjectArray out = env->NewObjectArray(3, g_object_class, nullptr);
  if (out != nullptr) {
    env->SetObjectArrayElement(out, 0, TakeBytes(env, &id));
    env->SetObjectArrayElement(out, 1, TakeString(env, link));  // wiped here; Java zeroes its copy
    env->SetObjectArrayElement(out, 2, TakeString(env, qr));
  } else {
    kring_bytes_free(&id);
    kring_string_free(link);
    kring_string_free(qr);
  }
  return out;
}

KRING_JNI(void, nativeRevokeInvite)
(JNIEnv* env, jclass, jlong handle, jbyteArray case_id, jbyteArray invite_id) {
  JBytes c(env, case_id);
  JBytes i(env, invite_id);
  kring_error* err = nullptr;
  Check(env,
        kring_client_revoke_invite(Client(handle), c.data(), c.size(), i.data(), i.size(), &err),
        err);
}

KRING_JNI(jbyteArray, nativeAcceptInvite)(JNIEnv* env, jclass, jlong handle, jbyteArray link) {
  JBytes l(env, link);  // wiped when it goes out of scope
  kring_bytes id{nullptr, 0};
  kring_error* err = nullptr;
  if (Check(env, kring_client_accept_invite(Client(handle), l.c_str(), &id, &err), err)) {
    return nullptr;
  }
  return TakeBytes(env, &id);
}

KRING_JNI(void, nativeDecideMember)
(JNIEnv* env, jclass, jlong handle, jbyteArray case_id, jbyteArray account_id, jboolean approve) {
  JBytes c(env, case_id);
  JBytes a(env, account_id);
  kring_error* err = nullptr;
  auto fn = approve ? kring_client_approve_member : kring_client_decline_member;
  Check(env, fn(Client(handle), c.data(), c.size(), a.data(), a.size(), &err), err);
}

KRING_JNI(void, nativeSetRole)
(JNIEnv* env, jclass, jlong handle, jbyteArray case_id, jbyteArray account_id, jint role) {
  CallWithRole(env, handle, case_id, account_id, role, kring_client_set_role);
}

KRING_JNI(void, nativeSubmit)
(JNIEnv* env, jclass, jlong handle, jbyteArray case_id, jbyteArray content_op) {
  JBytes c(env, case_id);
  JBytes op(env, content_op);
  kring_error* err = nullptr;
  Check(env, kring_client_submit(Client(handle), c.data(), c.size(), op.data(), op.size(), &err),
        err);
}

KRING_JNI(jbyteArray, nativeCreateEntity)
(JNIEnv* env, jclass, jlong handle, jbyteArray case_id, jbyteArray type) {
  JBytes c(env, case_id);
  JBytes t(env, type);
  kring_bytes id{nullptr, 0};
  kring_error* err = nullptr;
  if (Check(env,
            kring_client_create_entity(Client(handle), c.data(), c.size(), t.c_str(), &id, &err),
            err)) {
    return nullptr;
  }
  return TakeBytes(env, &id);
}

KRING_JNI(void, nativeSetField)
(JNIEnv* env, jclass, jlong handle, jbyteArray case_id, jbyteArray entity_id, jbyteArray field,
 jbyteArray value) {
  JBytes c(env, case_id);
  JBytes e(env, entity_id);
  JBytes f(env, field);
  JBytes v(env, value);
  kring_error* err = nullptr;
  Check(env,
        kring_client_set_field(Client(handle), c.data(), c.size(), e.data(), e.size(), f.c_str(),
                               v.data(), v.size(), &err),
        err);
}

KRING_JNI(jbyteArray, nativeAddToSet)
(JNIEnv* env, jclass, jlong handle, jbyteArray case_id, jbyteArray entity_id, jbyteArray set,
 jbyteArray value) {
  JBytes c(env, case_id);
  JBytes e(env, entity_id);
  JBytes s(env, set);
  JBytes v(env, value);
  kring_bytes id{nullptr, 0};
  kring_error* err = nullptr;
  if (Check(env,
            kring_client_add_to_set(Client(handle), c.data(), c.size(), e.data(), e.size(),
                                    s.c_str(), v.data(), v.size(), &id, &err),
            err)) {
    return nullptr;
  }
  return TakeBytes(env, &id);
}

KRING_JNI(void, nativeRemoveFromSet)
(JNIEnv* env, jclass, jlong handle, jbyteArray case_id, jbyteArray entity_id, jbyteArray set,
 jbyteArray element_id) {
  JBytes c(env, case_id);
  JBytes e(env, entity_id);
  JBytes s(env, set);
  JBytes el(env, element_id);
  kring_error* err = nullptr;
  Check(env,
        kring_client_remove_from_set(Client(handle), c.data(), c.size(), e.data(), e.size(),
                                     s.c_str(), el.data(), el.size(), &err),
        err);
}

KRING_JNI(void, nativeDeleteEntity)
(JNIEnv* env, jclass, jlong handle, jbyteArray case_id, jbyteArray entity_id, jboolean restore) {
  JBytes c(env, case_id);
  JBytes e(env, entity_id);
  kring_error* err = nullptr;
  auto fn = restore ? kring_client_restore_entity : kring_client_delete_entity;
  Check(env, fn(Client(handle), c.data(), c.size(), e.data(), e.size(), &err), err);
}

KRING_JNI(jbyteArray, nativeView)
(JNIEnv* env, jclass, jlong handle, jbyteArray case_id, jboolean confirmed) {
  JBytes c(env, case_id);
  kring_bytes state{nullptr, 0};
  kring_error* err = nullptr;
  auto fn = confirmed ? kring_client_confirmed_view : kring_client_view;
  if (Check(env, fn(Client(handle), c.data(), c.size(), &state, &err), err)) return nullptr;
  return TakeBytes(env, &state);
}

KRING_JNI(jlong, nativePendingIntents)(JNIEnv* env, jclass, jlong handle, jbyteArray case_id) {
  JBytes c(env, case_id);
  size_t n = 0;
  kring_error* err = nullptr;
  if (Check(env, kring_client_pending_intents(Client(handle), c.data(), c.size(), &n, &err), err)) {
    return 0;
  }
  return static_cast<jlong>(n);
}

KRING_JNI(jbyteArray, nativeAlarms)(JNIEnv* env, jclass, jlong handle) {
  kring_bytes alarms{nullptr, 0};
  kring_error* err = nullptr;
  if (Check(env, kring_client_alarms(Client(handle), &alarms, &err), err)) return nullptr;
  return TakeBytes(env, &alarms);
}

KRING_JNI(jbyteArray, nativeSyncNow)(JNIEnv* env, jclass, jlong handle) {
  kring_bytes report{nullptr, 0};
  kring_error* err = nullptr;
  if (Check(env, kring_client_sync_now_report(Client(handle), &report, &err), err)) return nullptr;
  return TakeBytes(env, &report);
}

KRING_JNI(jbyteArray, nativeSyncCase)(JNIEnv* env, jclass, jlong handle, jbyteArray case_id) {
  JBytes c(env, case_id);
  kring_bytes report{nullptr, 0};
  kring_error* err = nullptr;
  if (Check(env, kring_client_sync_case_report(Client(handle), c.data(), c.size(), &report, &err),
            err)) {
    return nullptr;
  }
  return TakeBytes(env, &report);
}

KRING_JNI(void, nativeSyncAsync)(JNIEnv* env, jclass, jlong handle, jobject future) {
  if (future == nullptr) return ThrowInvalid(env, "future is required");
  jobject ref = env->NewGlobalRef(future);
  if (ref == nullptr) return;
  kring_error* err = nullptr;
  kring_status s = kring_client_sync_async(Client(handle), OnSyncDone, ref, &err);
  if (s != KRING_OK) env->DeleteGlobalRef(ref);  // the completion will never run
  Check(env, s, err);
}

KRING_JNI(void, nativeSyncCaseAsync)
(JNIEnv* env, jclass, jlong handle, jbyteArray case_id, jobject future) {
  if (future == nullptr) return ThrowInvalid(env, "future is required");
  JBytes c(env, case_id);
  jobject ref = env->NewGlobalRef(future);
  if (ref == nullptr) return;
  kring_error* err = nullptr;
  kring_status s =
      kring_client_sync_case_async(Client(handle), c.data(), c.size(), OnSyncDone, ref, &err);
  if (s != KRING_OK) env->DeleteGlobalRef(ref);  // the completion will never run
  Check(env, s, err);
}

KRING_JNI(jlong, nativeAddChangeListener)(JNIEnv* env, jclass, jlong handle, jobject listener) {
  if (listener == nullptr) {
    ThrowInvalid(env, "listener is required");
    return 0;
  }
  jobject ref = env->NewGlobalRef(listener);
  if (ref == nullptr) return 0;
  uint64_t token = 0;
  kring_error* err = nullptr;
  // The library owns `ref` from here on and releases it through FreeGlobalRef exactly once.
  if (Check(env,
            kring_client_add_change_event_listener(Client(handle), OnChange, ref, FreeGlobalRef,
                                                   &token, &err),
            err)) {
    return 0;
  }
  return static_cast<jlong>(token);
}

KRING_JNI(void, nativeRemoveChangeListener)(JNIEnv* env, jclass, jlong handle, jlong token) {
  kring_error* err = nullptr;
  Check(env,
        kring_client_remove_change_listener(Client(handle), static_cast<uint64_t>(token), &err),
        err);
}

// ---- ABI 5: restricted scopes, closing and erasure, the domain ----

KRING_JNI(jlong, nativeCreateScope)
(JNIEnv* env, jclass, jlong handle, jbyteArray case_id, jbyteArray member_ids) {
  JBytes c(env, case_id);
  JBytes m(env, member_ids);
  uint32_t scope = 0;
  kring_error* err = nullptr;
  if (Check(env,
            kring_client_create_scope(Client(handle), c.data(), c.size(), m.data(), m.size(),
                                      &scope, &err),
            err)) {
    return 0;
  }
  return static_cast<jlong>(scope);
}

KRING_JNI(void, nativeSetScopeMembers)
(JNIEnv* env, jclass, jlong handle, jbyteArray case_id, jlong scope_id, jbyteArray member_ids) {
  JBytes c(env, case_id);
  JBytes m(env, member_ids);
  kring_error* err = nullptr;
  if (scope_id < 0 || scope_id > UINT32_MAX) return ThrowInvalid(env, "scope id out of range");
  Check(env,
        kring_client_set_scope_members(Client(handle), c.data(), c.size(),
                                       static_cast<uint32_t>(scope_id), m.data(), m.size(), &err),
        err);
}

KRING_JNI(jbyteArray, nativeCreateEntityInScope)
(JNIEnv* env, jclass, jlong handle, jbyteArray case_id, jbyteArray type, jlong scope_id) {
  JBytes c(env, case_id);
  JBytes t(env, type);
  kring_bytes id{nullptr, 0};
  kring_error* err = nullptr;
  if (scope_id < 0 || scope_id > UINT32_MAX) {
    ThrowInvalid(env, "scope id out of range");
    return nullptr;
  }
  if (Check(env,
            kring_client_create_entity_in_scope(Client(handle), c.data(), c.size(), t.c_str(),
                                                static_cast<uint32_t>(scope_id), &id, &err),
            err)) {
    return nullptr;
  }
  return TakeBytes(env, &id);
}

KRING_JNI(void, nativeSubmitInScope)
(JNIEnv* env, jclass, jlong handle, jbyteArray case_id, jbyteArray op, jlong scope_id) {
  JBytes c(env, case_id);
  JBytes o(env, op);
  kring_error* err = nullptr;
  if (scope_id < 0 || scope_id > UINT32_MAX) return ThrowInvalid(env, "scope id out of range");
  Check(env,
        kring_client_submit_in_scope(Client(handle), c.data(), c.size(), o.data(), o.size(),
                                     static_cast<uint32_t>(scope_id), &err),
        err);
}

KRING_JNI(jlong, nativeScopeOf)
(JNIEnv* env, jclass, jlong handle, jbyteArray case_id, jbyteArray entity_id) {
  JBytes c(env, case_id);
  JBytes e(env, entity_id);
  uint32_t scope = 0;
  kring_error* err = nullptr;
  if (Check(env,
            kring_client_scope_of(Client(handle), c.data(), c.size(), e.data(), e.size(), &scope,
                                  &err),
            err)) {
    return 0;
  }
  return static_cast<jlong>(scope);
}

KRING_JNI(void, nativeCloseCase)
(JNIEnv* env, jclass, jlong handle, jbyteArray case_id, jint retention_days) {
  JBytes c(env, case_id);
  kring_error* err = nullptr;
  if (retention_days < 0) return ThrowInvalid(env, "retention days must not be negative");
  Check(env,
        kring_client_close_case(Client(handle), c.data(), c.size(),
                                static_cast<uint32_t>(retention_days), &err),
        err);
}

KRING_JNI(void, nativeEraseCase)(JNIEnv* env, jclass, jlong handle, jbyteArray case_id) {
  JBytes c(env, case_id);
  kring_error* err = nullptr;
  Check(env, kring_client_erase_case(Client(handle), c.data(), c.size(), &err), err);
}

KRING_JNI(jbyteArray, nativeDomainCall)
(JNIEnv* env, jclass, jlong handle, jbyteArray case_id, jbyteArray request) {
  JBytes c(env, case_id);
  JBytes r(env, request);
  kring_bytes response{nullptr, 0};
  kring_error* err = nullptr;
  if (Check(env,
            kring_client_domain_call(Client(handle), c.data(), c.size(), r.data(), r.size(),
                                     &response, &err),
            err)) {
    return nullptr;
  }
  return TakeBytes(env, &response);
}

// ---- Devices (ABI 4) ----

KRING_JNI(jobjectArray, nativeRequestDeviceLink)(JNIEnv* env, jclass, jlong handle) {
  char* payload = nullptr;
  char* code = nullptr;
  kring_error* err = nullptr;
  if (Check(env, kring_client_request_device_link(Client(handle), &payload, &code, &err), err)) {
    return nullptr;
  }
  jobjectArray out = env->NewObjectArray(2, g_object_class, nullptr);
  if (out != nullptr) {
    env->SetObjectArrayElement(out, 0, TakeString(env, payload));
    env->SetObjectArrayElement(out, 1, TakeString(env, code));
  } else {
    kring_string_free(payload);
    kring_string_free(code);
  }
  return out;
}

KRING_JNI(jbyteArray, nativeApproveDeviceLink)
(JNIEnv* env, jclass, jlong handle, jbyteArray payload, jbyteArray code) {
  JBytes p(env, payload);
  JBytes c(env, code);
  char* approval = nullptr;
  kring_error* err = nullptr;
  if (Check(env,
            kring_client_approve_device_link(Client(handle), p.c_str(), c.c_str(), &approval, &err),
            err)) {
    return nullptr;
  }
  return TakeString(env, approval);
}

namespace {

// {account id, safety number} for a device that now belongs to an account.
jobjectArray AccountPair(JNIEnv* env, kring_bytes* id, char* safety) {
  jobjectArray out = env->NewObjectArray(2, g_object_class, nullptr);
  if (out != nullptr) {
    env->SetObjectArrayElement(out, 0, TakeBytes(env, id));
    env->SetObjectArrayElement(out, 1, TakeString(env, safety));
  } else {
    kring_bytes_free(id);
    kring_string_free(safety);
  }
  return out;
}

}  // namespace

KRING_JNI(jobjectArray, nativeFinishDeviceLink)
(JNIEnv* env, jclass, jlong handle, jbyteArray approval) {
  JBytes a(env, approval);
  kring_bytes id{nullptr, 0};
  char* safety = nullptr;
  kring_error* err = nullptr;
  if (Check(env, kring_client_finish_device_link(Client(handle), a.c_str(), &id, &safety, &err),
            err)) {
    return nullptr;
  }
  return AccountPair(env, &id, safety);
}

KRING_JNI(jbyteArray, nativeDevices)(JNIEnv* env, jclass, jlong handle) {
  kring_bytes list{nullptr, 0};
  kring_error* err = nullptr;
  if (Check(env, kring_client_devices(Client(handle), &list, &err), err)) return nullptr;
  return TakeBytes(env, &list);
}

KRING_JNI(void, nativeRevokeDevice)(JNIEnv* env, jclass, jlong handle, jbyteArray device_id) {
  JBytes d(env, device_id);
  kring_error* err = nullptr;
  Check(env, kring_client_revoke_device(Client(handle), d.data(), d.size(), &err), err);
}

KRING_JNI(jobjectArray, nativeRestoreAccount)
(JNIEnv* env, jclass, jlong handle, jbyteArray recovery_key, jbyteArray account_id) {
  JBytes key(env, recovery_key);  // wiped when it goes out of scope
  JBytes expected(env, account_id);
  kring_bytes id{nullptr, 0};
  char* safety = nullptr;
  kring_error* err = nullptr;
  if (Check(env,
            kring_client_restore_account(Client(handle), key.c_str(), expected.data(),
                                         expected.size(), &id, &safety, &err),
            err)) {
    return nullptr;
  }
  return AccountPair(env, &id, safety);
}

}  // extern "C"
