package nl.kring;

import com.google.protobuf.InvalidProtocolBufferException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import kring.v1.Case;
import kring.v1.Model;
import nl.kring.abi.AlarmsProto;
import nl.kring.abi.DevicesProto;
import nl.kring.abi.DomainProto;

/**
 * One device's libkring client: an open local store plus a connection to kringd. A thin layer
 * over the C ABI (kring.h, the reference for every operation's semantics); model values are the
 * protobuf messages of proto/kring/v1.
 *
 * <p>Thread-safe. Edits return once stored durably and are sent by the next sync (offline-first).
 * Close it when done ({@link #close()}, or try-with-resources); calls after close throw
 * {@link IllegalStateException}.
 */
public final class KringClient implements AutoCloseable {
  static {
    System.loadLibrary("kring_jni");
  }

  /** Identifiers (account, case, entity, element) are this many bytes. */
  public static final int ID_SIZE = nativeIdSize();

  /** The storage key {@link #open} expects is this many bytes. */
  public static final int STORAGE_KEY_SIZE = nativeStorageKeySize();

  // Calls hold the read lock, close() the write lock: the native handle is never freed while a
  // call is using it.
  private final ReentrantReadWriteLock lock = new ReentrantReadWriteLock();
  private long handle;

  private KringClient(long handle) {
    this.handle = handle;
  }

  /**
   * Opens (creating if needed) the local store.
   *
   * @param dbPath path of the store's SQLite file
   * @param storageKey {@link #STORAGE_KEY_SIZE} bytes from the platform keystore; copied
   * @param serverAddress "host:port" of kringd, or null for an offline-only client
   * @param tlsRootCerts PEM roots for TLS, or null for plaintext (loopback and tests only)
   * @param backgroundSync sync in the background (on edits, server pokes and a timer)
   */
  public static KringClient open(
      String dbPath,
      byte[] storageKey,
      String serverAddress,
      String tlsRootCerts,
      boolean backgroundSync)
      throws KringException {
    Objects.requireNonNull(dbPath, "dbPath");
    Objects.requireNonNull(storageKey, "storageKey");
    long h =
        nativeOpen(
            utf8(dbPath), storageKey, utf8(serverAddress), utf8(tlsRootCerts), backgroundSync);
    return new KringClient(h);
  }

  /**
   * Closes the client: waits for a running sync, cancels queued async syncs, stops its threads
   * and drops every change listener. Idempotent. Must not be called from a change listener that
   * runs on a direct executor while another thread is in {@link #syncNow()}.
   */
  @Override
  public void close() {
    lock.writeLock().lock();
    try {
      if (handle != 0) {
        nativeClose(handle);
        handle = 0;
      }
    } finally {
      lock.writeLock().unlock();
    }
  }

  // ---- Account ----

  /** Creates this device's account and publishes it. The recovery key is in the result only. */
  public Account createAccount() throws KringException {
    Object[] r = (Object[]) call(h -> nativeCreateAccount(h));
    return new Account((byte[]) r[0], new byte[0], str(r[1]), str(r[2]));
  }

  /** This device's account (FAILED_PRECONDITION when there is none yet). */
  public Account account() throws KringException {
    Object[] r = (Object[]) call(h -> nativeAccount(h));
    return new Account((byte[]) r[0], (byte[]) r[1], str(r[2]), null);
  }

  /** Safety number of another account, from its verified chain. */
  public String safetyNumberOf(byte[] accountId) throws KringException {
    return str(call(h -> nativeSafetyNumberOf(h, accountId)));
  }

  // ---- Cases ----

  /** Creates a case with these members (the caller is chair unless listed); returns its id. */
  public byte[] createCase(List<Case.Member> members) throws KringException {
    byte[] request = Case.CreateCase.newBuilder().addAllMembers(members).build().toByteArray();
    return (byte[]) call(h -> nativeCreateCase(h, request));
  }

  /**
   * Creates a case with the chair's choice for people added later: {@code newcomersReadHistory}
   * true lets them read what was written before they joined; false is "from now on" only.
   */
  public byte[] createCase(List<Case.Member> members, boolean newcomersReadHistory)
      throws KringException {
    byte[] request = Case.CreateCase.newBuilder().addAllMembers(members).build().toByteArray();
    return (byte[]) call(h -> nativeCreateCaseWithHistory(h, request, newcomersReadHistory));
  }

  /** The ids of the cases this device knows. */
  public List<byte[]> cases() throws KringException {
    byte[] all = (byte[]) call(h -> nativeCases(h));
    List<byte[]> out = new ArrayList<>();
    for (int i = 0; i + ID_SIZE <= all.length; i += ID_SIZE) {
      byte[] id = new byte[ID_SIZE];
      System.arraycopy(all, i, id, 0, ID_SIZE);
      out.add(id);
    }
    return Collections.unmodifiableList(out);
  }

  // ---- Membership and invitations (queued like edits; kring.h has the rules) ----

  /** Adds an existing account with a role (chair or coordinator only; online). */
  public void addMember(byte[] caseId, byte[] accountId, Case.Role role) throws KringException {
    int r = roleNumber(role);
    call(
        h -> {
          nativeAddMember(h, caseId, accountId, r);
          return null;
        });
  }

  /**
   * Removes a member (chair or coordinator only). Returns the sentence the app must show to the
   * person removing, in {@code language} ("nl" or "en"): what was seen cannot be recalled, what
   * comes after is protected. The removed device gets {@link ChangeEvent.Kind#REMOVED_FROM_CASE}.
   */
  public String removeMember(byte[] caseId, byte[] accountId, String language)
      throws KringException {
    Objects.requireNonNull(language, "language");
    return str(call(h -> nativeRemoveMember(h, caseId, accountId, utf8(language))));
  }

  /**
   * This device's account leaves the case (any member, while a chair or coordinator remains).
   * Returns the sentence the app must show to the person leaving, in {@code language} ("nl" or
   * "en"): what was seen stays on this device, what comes after cannot be read here. A chair's or
   * coordinator's device makes the next key by itself at its next sync; this device gets {@link
   * ChangeEvent.Kind#REMOVED_FROM_CASE} at its next sync.
   */
  public String leaveCase(byte[] caseId, String language) throws KringException {
    Objects.requireNonNull(language, "language");
    return str(call(h -> nativeLeaveCase(h, caseId, utf8(language))));
  }

  /**
   * The fingerprint of the case's current key, e.g. "epoch 2: 1234 5678 9012", to compare at the
   * meeting after a removal or a leave: every remaining member's device shows the same text once
   * it has synced. Local only. {@link KringException.Status#NOT_FOUND} when this device holds no
   * confirmed key for the case.
   */
  public String epochFingerprint(byte[] caseId) throws KringException {
    return str(call(h -> nativeEpochFingerprint(h, caseId)));
  }

  /**
   * Creates a single-use invitation for {@code role}, valid for 1 second to 30 days. Its state is
   * in {@code view(caseId).getInvitesList()}. The link and QR text are secret (see {@link
   * Invitation}).
   */
  public Invitation createInvite(byte[] caseId, Case.Role role, long validForSeconds)
      throws KringException {
    int r = roleNumber(role);
    Object[] out = (Object[]) call(h -> nativeCreateInvite(h, caseId, r, validForSeconds));
    return new Invitation((byte[]) out[0], secretStr(out[1]), secretStr(out[2]));
  }

  /** Revokes an invitation that was not used yet. */
  public void revokeInvite(byte[] caseId, byte[] inviteId) throws KringException {
    call(
        h -> {
          nativeRevokeInvite(h, caseId, inviteId);
          return null;
        });
  }

  /**
   * Accepts an invitation (link or QR text) with this device's account; returns the case id. The
   * case then waits for approval ({@code getPendingApproval()}) without keys or content.
   *
   * <p>Blocks while a sync of this client runs (it waits for that sync to end, network round
   * trips for every case included, though it makes no network call of its own): call it on a
   * background thread, never on the main (UI) thread, where it could freeze the app.
   */
  public byte[] acceptInvite(String link) throws KringException {
    Objects.requireNonNull(link, "link");
    byte[] text = utf8(link);
    try {
      return (byte[]) call(h -> nativeAcceptInvite(h, text));
    } finally {
      Arrays.fill(text, (byte) 0);
    }
  }

  /** Lets in an account waiting for approval, with the role its invite named. */
  public void approveMember(byte[] caseId, byte[] accountId) throws KringException {
    call(
        h -> {
          nativeDecideMember(h, caseId, accountId, true);
          return null;
        });
  }

  /** Says no to an account waiting for approval. */
  public void declineMember(byte[] caseId, byte[] accountId) throws KringException {
    call(
        h -> {
          nativeDecideMember(h, caseId, accountId, false);
          return null;
        });
  }

  /**
   * Changes a member's role to coordinator or member (queued; no new key). kring_client_set_role
   * in kring.h has the rules; a refused change throws with its reason.
   */
  public void setRole(byte[] caseId, byte[] accountId, Case.Role role) throws KringException {
    int r = roleNumber(role);
    call(
        h -> {
          nativeSetRole(h, caseId, accountId, r);
          return null;
        });
  }

  // ---- Devices of this account (kring.h ABI 4 has the steps and rules) ----

  /**
   * On a new device without an account: the payload to show as a QR code and the code to show
   * next to it. Calling it again returns the same. Local only.
   */
  public DeviceLinkRequest requestDeviceLink() throws KringException {
    Object[] r = (Object[]) call(h -> nativeRequestDeviceLink(h));
    return new DeviceLinkRequest(str(r[0]), str(r[1]));
  }

  /**
   * On an existing device: approves the new device's payload with the code the person typed
   * (PERMISSION_DENIED when they do not match). Returns the approval for the new device; it holds
   * the user keys sealed to that device only.
   */
  public String approveDeviceLink(String payload, String code) throws KringException {
    Objects.requireNonNull(payload, "payload");
    Objects.requireNonNull(code, "code");
    return secretStr(call(h -> nativeApproveDeviceLink(h, utf8(payload), utf8(code))));
  }

  /** On the new device: takes over the account with the approval; sync then brings every case. */
  public Account finishDeviceLink(String approval) throws KringException {
    Objects.requireNonNull(approval, "approval");
    byte[] text = utf8(approval);
    try {
      Object[] r = (Object[]) call(h -> nativeFinishDeviceLink(h, text));
      return new Account((byte[]) r[0], new byte[0], str(r[1]), null);
    } finally {
      Arrays.fill(text, (byte) 0);
    }
  }

  /** This account's devices, from its chain as kringd has it now (online). */
  public List<DevicesProto.Device> devices() throws KringException {
    byte[] bytes = (byte[]) call(h -> nativeDevices(h));
    try {
      return DevicesProto.DeviceList.parseFrom(bytes).getDevicesList();
    } catch (InvalidProtocolBufferException e) {
      throw new KringException(KringException.Status.INTERNAL.code(), "unreadable device list");
    }
  }

  /** Revokes a lost or stolen device of this account, from another of its devices. */
  public void revokeDevice(byte[] deviceId) throws KringException {
    call(
        h -> {
          nativeRevokeDevice(h, deviceId);
          return null;
        });
  }

  /**
   * On a fresh device: takes over the account of this recovery key (NOT_FOUND when no account has
   * it). {@code expectedAccountId} (16 bytes) or null: when known, a server cannot hand over
   * another account built around the key.
   */
  public Account restoreAccount(String recoveryKey, byte[] expectedAccountId)
      throws KringException {
    Objects.requireNonNull(recoveryKey, "recoveryKey");
    byte[] key = utf8(recoveryKey);
    try {
      Object[] r = (Object[]) call(h -> nativeRestoreAccount(h, key, expectedAccountId));
      return new Account((byte[]) r[0], new byte[0], str(r[1]), null);
    } finally {
      Arrays.fill(key, (byte) 0);
    }
  }

  // ---- Restricted scopes (kring.h ABI 5) ----

  /**
   * Creates a restricted scope of these members (account ids; the caller is always in it) and
   * returns its id, for {@link #createEntity(byte[], String, long)} and {@link #submit(byte[],
   * Model.ContentOp, long)}. Queued like an edit; the key is made at push time.
   */
  public long createScope(byte[] caseId, List<byte[]> members) throws KringException {
    byte[] ids = concat(members);
    return (Long) call(h -> nativeCreateScope(h, caseId, ids));
  }

  /** Replaces a scope's members; someone taken out cannot read what is written afterwards. */
  public void setScopeMembers(byte[] caseId, long scopeId, List<byte[]> members)
      throws KringException {
    byte[] ids = concat(members);
    call(
        h -> {
          nativeSetScopeMembers(h, caseId, scopeId, ids);
          return null;
        });
  }

  /** Creates an entity that lives in {@code scopeId} for good (0: the whole case). */
  public byte[] createEntity(byte[] caseId, String type, long scopeId) throws KringException {
    return (byte[]) call(h -> nativeCreateEntityInScope(h, caseId, utf8(type), scopeId));
  }

  /** Queues a batch of mutations in a scope (version is set to 1 when unset). */
  public void submit(byte[] caseId, Model.ContentOp op, long scopeId) throws KringException {
    Model.ContentOp versioned = op.getVersion() == 0 ? op.toBuilder().setVersion(1).build() : op;
    byte[] bytes = versioned.toByteArray();
    call(
        h -> {
          nativeSubmitInScope(h, caseId, bytes, scopeId);
          return null;
        });
  }

  /** The scope an entity lives in (0: the whole case); NOT_FOUND for an unknown entity. */
  public long scopeOf(byte[] caseId, byte[] entityId) throws KringException {
    return (Long) call(h -> nativeScopeOf(h, caseId, entityId));
  }

  // ---- Closing and erasure ----

  /**
   * Closes the case (chair or coordinator): read-only from then on; {@code retentionDays} (0 to
   * 3650) after kringd receives it, the case is deleted everywhere ({@link
   * ChangeEvent.Kind#CASE_DELETED}).
   */
  public void closeCase(byte[] caseId, int retentionDays) throws KringException {
    call(
        h -> {
          nativeCloseCase(h, caseId, retentionDays);
          return null;
        });
  }

  /**
   * Erases the case on the resident's request (the chair): kringd deletes it at once and every
   * device deletes its copy at its next sync ({@link ChangeEvent.Kind#CASE_DELETED}). Cannot be
   * undone.
   */
  public void eraseCase(byte[] caseId) throws KringException {
    call(
        h -> {
          nativeEraseCase(h, caseId);
          return null;
        });
  }

  // ---- The netwerkberaad domain ----

  /**
   * One domain call (referral, circle, poll, meeting, plan, agreements, follow-up): see
   * bindings/proto/kring/abi/v1/domain.proto for the calls and which response fields each fills.
   * A refusal throws a {@link KringException} whose {@link KringException#domainKey()} names it
   * and whose {@link KringException#userText(String)} is the text to show.
   */
  public DomainProto.DomainResponse domain(byte[] caseId, DomainProto.DomainRequest request)
      throws KringException {
    Objects.requireNonNull(request, "request");
    byte[] bytes = request.toByteArray();
    byte[] response = (byte[]) call(h -> nativeDomainCall(h, caseId, bytes));
    try {
      return DomainProto.DomainResponse.parseFrom(response);
    } catch (InvalidProtocolBufferException e) {
      throw new KringException(KringException.Status.INTERNAL.code(), "unreadable domain response");
    } finally {
      Arrays.fill(response, (byte) 0);
    }
  }

  // ---- Edits (offline-first) ----

  /** Queues a batch of mutations as one op (version is set to 1 when unset). */
  public void submit(byte[] caseId, Model.ContentOp op) throws KringException {
    Model.ContentOp versioned = op.getVersion() == 0 ? op.toBuilder().setVersion(1).build() : op;
    byte[] bytes = versioned.toByteArray();
    call(
        h -> {
          nativeSubmit(h, caseId, bytes);
          return null;
        });
  }

  /** Creates an entity of a type (e.g. "agreement"); returns its id. */
  public byte[] createEntity(byte[] caseId, String type) throws KringException {
    return (byte[]) call(h -> nativeCreateEntity(h, caseId, utf8(type)));
  }

  /** Sets a field, based on the revision this device sees (concurrent edits become conflicts). */
  public void setField(byte[] caseId, byte[] entityId, String field, Model.Value value)
      throws KringException {
    byte[] v = value.toByteArray();
    call(
        h -> {
          nativeSetField(h, caseId, entityId, utf8(field), v);
          return null;
        });
  }

  /** Adds an element to an add-wins set; returns the element id. */
  public byte[] addToSet(byte[] caseId, byte[] entityId, String set, Model.Value value)
      throws KringException {
    byte[] v = value.toByteArray();
    return (byte[]) call(h -> nativeAddToSet(h, caseId, entityId, utf8(set), v));
  }

  /** Removes an element (the adds this device has seen). */
  public void removeFromSet(byte[] caseId, byte[] entityId, String set, byte[] elementId)
      throws KringException {
    call(
        h -> {
          nativeRemoveFromSet(h, caseId, entityId, utf8(set), elementId);
          return null;
        });
  }

  /** Marks an entity deleted (undone by {@link #restoreEntity}). */
  public void deleteEntity(byte[] caseId, byte[] entityId) throws KringException {
    call(
        h -> {
          nativeDeleteEntity(h, caseId, entityId, false);
          return null;
        });
  }

  public void restoreEntity(byte[] caseId, byte[] entityId) throws KringException {
    call(
        h -> {
          nativeDeleteEntity(h, caseId, entityId, true);
          return null;
        });
  }

  // ---- Reading ----

  /** Confirmed state with this device's pending edits on top. */
  public Model.CaseState view(byte[] caseId) throws KringException {
    return parseState((byte[]) call(h -> nativeView(h, caseId, false)));
  }

  /** Confirmed state only (ordered by the server, verified by this device). */
  public Model.CaseState confirmedView(byte[] caseId) throws KringException {
    return parseState((byte[]) call(h -> nativeView(h, caseId, true)));
  }

  /** This device's edits to the case not yet confirmed by the server. */
  public long pendingIntents(byte[] caseId) throws KringException {
    return (Long) call(h -> nativePendingIntents(h, caseId));
  }

  /** Every security alarm this device has raised. */
  public List<AlarmsProto.Alarm> alarms() throws KringException {
    byte[] bytes = (byte[]) call(h -> nativeAlarms(h));
    try {
      return AlarmsProto.AlarmList.parseFrom(bytes).getAlarmsList();
    } catch (InvalidProtocolBufferException e) {
      throw new KringException(KringException.Status.INTERNAL.code(), "unreadable alarm list");
    }
  }

  // ---- Sync ----

  /** Runs one full sync and waits for it (network; do not call on a UI thread). */
  public SyncStats syncNow() throws KringException {
    return SyncStats.of((byte[]) call(h -> nativeSyncNow(h)));
  }

  /**
   * Starts one full sync. The future completes exactly once, on libkring's callback thread:
   * normally, or exceptionally with a {@link KringException} (CANCELLED when the client closes
   * first). Chain with {@code thenRunAsync(..., executor)} to continue on your own thread.
   */
  public CompletableFuture<Void> syncAsync() throws KringException {
    CompletableFuture<Void> future = new CompletableFuture<>();
    call(
        h -> {
          nativeSyncAsync(h, future);
          return null;
        });
    return future;
  }

  /**
   * Syncs one case only (network; do not call on a UI thread): pulls, verifies and pushes that
   * case as {@link #syncNow()} does every case; other cases are not touched. Throws NOT_FOUND
   * when neither this device nor the server has the case, INVALID_ARGUMENT for an id that is not
   * 16 bytes, SECURITY_ALARM when the case is stopped by an alarm (TAMPER, FORK, DROP, ROLLBACK,
   * or KEY_MISMATCH for a Rekey whose recipients are not the members; offline too) or the server
   * refuses it without showing a removal (REMOVAL_NOT_SHOWN); an alarm that does not stop the
   * case (KEY_MISMATCH for this device's own key box) is only a change event. Otherwise as
   * {@link #syncNow()}; it waits for a sync already running.
   */
  public SyncStats syncCase(byte[] caseId) throws KringException {
    return SyncStats.of((byte[]) call(h -> nativeSyncCase(h, caseId)));
  }

  /**
   * Starts {@link #syncCase(byte[])}; the future completes as for {@link #syncAsync()}. A bad
   * id throws here and the future is not returned.
   */
  public CompletableFuture<Void> syncCaseAsync(byte[] caseId) throws KringException {
    CompletableFuture<Void> future = new CompletableFuture<>();
    call(
        h -> {
          nativeSyncCaseAsync(h, caseId, future);
          return null;
        });
    return future;
  }

  /** A registered listener; {@link #close()} removes it. */
  public final class Registration implements AutoCloseable {
    private long token;

    private Registration(long token) {
      this.token = token;
    }

    /** Removes the listener: no call starts after this returns. Idempotent. */
    @Override
    public void close() {
      long t;
      synchronized (this) {
        t = token;
        token = 0;
      }
      if (t == 0) {
        return;
      }
      lock.readLock().lock();
      try {
        if (handle != 0) {
          nativeRemoveChangeListener(handle, t);
        }
      } catch (KringException e) {
        // NOT_FOUND: already gone with the client.
      } finally {
        lock.readLock().unlock();
      }
    }
  }

  /**
   * Registers a listener. libkring calls back on its sync thread; each event is handed to
   * {@code executor} (e.g. the main thread's executor on Android), so the listener runs there.
   */
  public Registration addChangeListener(Executor executor, ChangeListener listener)
      throws KringException {
    Objects.requireNonNull(executor, "executor");
    Objects.requireNonNull(listener, "listener");
    NativeListener bridge = new NativeListener(executor, listener);
    long token = (Long) call(h -> nativeAddChangeListener(h, bridge));
    return new Registration(token);
  }

  /** Called by JNI on libkring's thread; only hands the event to the app's executor. */
  static final class NativeListener {
    private final Executor executor;
    private final ChangeListener listener;

    NativeListener(Executor executor, ChangeListener listener) {
      this.executor = executor;
      this.listener = listener;
    }

    void onNative(
        int kind,
        byte[] caseId,
        byte[] detail,
        String reason,
        String textNl,
        String textEn,
        long count) {
      ChangeEvent event =
          new ChangeEvent(
              ChangeEvent.Kind.fromCode(kind),
              caseId == null ? new byte[0] : caseId,
              new String(detail, StandardCharsets.UTF_8),
              reason,
              textNl,
              textEn,
              count);
      try {
        executor.execute(() -> listener.onChange(event));
      } catch (RejectedExecutionException e) {
        // The app's executor is shut down: the event has nowhere to go.
      }
    }
  }

  // ---- Helpers ----

  @FunctionalInterface
  private interface NativeCall {
    Object apply(long handle) throws KringException;
  }

  private Object call(NativeCall c) throws KringException {
    lock.readLock().lock();
    try {
      if (handle == 0) {
        throw new IllegalStateException("KringClient is closed");
      }
      return c.apply(handle);
    } finally {
      lock.readLock().unlock();
    }
  }

  private static Model.CaseState parseState(byte[] bytes) throws KringException {
    try {
      return Model.CaseState.parseFrom(bytes);
    } catch (InvalidProtocolBufferException e) {
      throw new KringException(KringException.Status.INTERNAL.code(), "unreadable case state");
    }
  }

  /** NUL-terminated UTF-8 for the C ABI (null stays null). */
  private static byte[] utf8(String s) {
    if (s == null) {
      return null;
    }
    byte[] b = s.getBytes(StandardCharsets.UTF_8);
    byte[] z = new byte[b.length + 1];
    System.arraycopy(b, 0, z, 0, b.length);
    return z;
  }

  private static String str(Object utf8) {
    return new String((byte[]) utf8, StandardCharsets.UTF_8);
  }

  /** Like {@link #str}, then zeroes the array (a Java String itself cannot be wiped). */
  private static String secretStr(Object utf8) {
    byte[] b = (byte[]) utf8;
    try {
      return new String(b, StandardCharsets.UTF_8);
    } finally {
      Arrays.fill(b, (byte) 0);
    }
  }

  /** Ids concatenated, as the C ABI takes a list of ids. */
  private static byte[] concat(List<byte[]> ids) {
    Objects.requireNonNull(ids, "ids");
    byte[] out = new byte[ids.size() * ID_SIZE];
    int i = 0;
    for (byte[] id : ids) {
      if (id == null || id.length != ID_SIZE) {
        throw new IllegalArgumentException("an id is " + ID_SIZE + " bytes");
      }
      System.arraycopy(id, 0, out, i, ID_SIZE);
      i += ID_SIZE;
    }
    return out;
  }

  /** kring_role numbers are kring.v1.Role's; an unrecognized role is refused by libkring. */
  private static int roleNumber(Case.Role role) {
    Objects.requireNonNull(role, "role");
    return role == Case.Role.UNRECOGNIZED ? 0 : role.getNumber();
  }

  static String hex(byte[] b) {
    StringBuilder s = new StringBuilder();
    for (byte x : b) {
      s.append(String.format("%02x", x));
    }
    return s.toString();
  }

  // ---- JNI (bindings/java/jni/kring_jni.cpp); strings cross as NUL-terminated UTF-8 ----

  private static native int nativeIdSize();

  private static native int nativeStorageKeySize();

  private static native long nativeOpen(
      byte[] dbPath, byte[] storageKey, byte[] server, byte[] tlsRoots, boolean background)
      throws KringException;

  private static native void nativeClose(long handle);

  private static native Object[] nativeCreateAccount(long handle) throws KringException;

  private static native Object[] nativeAccount(long handle) throws KringException;

  private static native byte[] nativeSafetyNumberOf(long handle, byte[] accountId)
      throws KringException;

  private static native byte[] nativeCreateCase(long handle, byte[] createCase)
      throws KringException;

  private static native byte[] nativeCases(long handle) throws KringException;

  private static native byte[] nativeCreateCaseWithHistory(
      long handle, byte[] createCase, boolean newcomersReadHistory) throws KringException;

  private static native void nativeAddMember(long handle, byte[] caseId, byte[] accountId, int role)
      throws KringException;

  private static native byte[] nativeRemoveMember(
      long handle, byte[] caseId, byte[] accountId, byte[] lang) throws KringException;

  private static native byte[] nativeLeaveCase(long handle, byte[] caseId, byte[] lang)
      throws KringException;

  private static native byte[] nativeEpochFingerprint(long handle, byte[] caseId)
      throws KringException;

  private static native Object[] nativeCreateInvite(
      long handle, byte[] caseId, int role, long validForSeconds) throws KringException;

  private static native void nativeRevokeInvite(long handle, byte[] caseId, byte[] inviteId)
      throws KringException;

  private static native byte[] nativeAcceptInvite(long handle, byte[] link) throws KringException;

  private static native void nativeDecideMember(
      long handle, byte[] caseId, byte[] accountId, boolean approve) throws KringException;

  private static native void nativeSetRole(long handle, byte[] caseId, byte[] accountId, int role)
      throws KringException;

  private static native void nativeSubmit(long handle, byte[] caseId, byte[] contentOp)
      throws KringException;

  private static native byte[] nativeCreateEntity(long handle, byte[] caseId, byte[] type)
      throws KringException;

  private static native void nativeSetField(
      long handle, byte[] caseId, byte[] entityId, byte[] field, byte[] value)
      throws KringException;

  private static native byte[] nativeAddToSet(
      long handle, byte[] caseId, byte[] entityId, byte[] set, byte[] value)
      throws KringException;

  private static native void nativeRemoveFromSet(
      long handle, byte[] caseId, byte[] entityId, byte[] set, byte[] elementId)
      throws KringException;

  private static native void nativeDeleteEntity(
      long handle, byte[] caseId, byte[] entityId, boolean restore) throws KringException;

  private static native byte[] nativeView(long handle, byte[] caseId, boolean confirmed)
      throws KringException;

  private static native long nativePendingIntents(long handle, byte[] caseId)
      throws KringException;

  private static native byte[] nativeAlarms(long handle) throws KringException;

  private static native byte[] nativeSyncNow(long handle) throws KringException;

  private static native void nativeSyncAsync(long handle, CompletableFuture<Void> future)
      throws KringException;

  private static native byte[] nativeSyncCase(long handle, byte[] caseId) throws KringException;

  private static native void nativeSyncCaseAsync(
      long handle, byte[] caseId, CompletableFuture<Void> future) throws KringException;

  private static native long nativeAddChangeListener(long handle, NativeListener listener)
      throws KringException;

  private static native void nativeRemoveChangeListener(long handle, long token)
      throws KringException;

  private static native Object[] nativeRequestDeviceLink(long handle) throws KringException;

  private static native byte[] nativeApproveDeviceLink(long handle, byte[] payload, byte[] code)
      throws KringException;

  private static native Object[] nativeFinishDeviceLink(long handle, byte[] approval)
      throws KringException;

  private static native byte[] nativeDevices(long handle) throws KringException;

  private static native void nativeRevokeDevice(long handle, byte[] deviceId)
      throws KringException;

  private static native Object[] nativeRestoreAccount(
      long handle, byte[] recoveryKey, byte[] accountId) throws KringException;

  private static native long nativeCreateScope(long handle, byte[] caseId, byte[] memberIds)
      throws KringException;

  private static native void nativeSetScopeMembers(
      long handle, byte[] caseId, long scopeId, byte[] memberIds) throws KringException;

  private static native byte[] nativeCreateEntityInScope(
      long handle, byte[] caseId, byte[] type, long scopeId) throws KringException;

  private static native void nativeSubmitInScope(
      long handle, byte[] caseId, byte[] contentOp, long scopeId) throws KringException;

  private static native long nativeScopeOf(long handle, byte[] caseId, byte[] entityId)
      throws KringException;

  private static native void nativeCloseCase(long handle, byte[] caseId, int retentionDays)
      throws KringException;

  private static native void nativeEraseCase(long handle, byte[] caseId) throws KringException;

  private static native byte[] nativeDomainCall(long handle, byte[] caseId, byte[] request)
      throws KringException;
}
