package nl.kring;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.stream.Stream;
import kring.v1.Case;
import kring.v1.Model;
import nl.kring.abi.SyncProto;

/**
 * The Java binding as an Android app would use it, against a real kringd started here: two
 * devices, a case, an edit made while the server is down, sync, reading the plan, and a change
 * callback delivered on the app's executor. A plain main-based runner (no JUnit dependency).
 *
 * <p>System property kring.kringd: path of the kringd binary.
 */
public final class KringClientTest {
  private static final long WAIT_SECONDS = 30;
  private static int failures = 0;
  private static int checks = 0;

  private static void check(boolean ok, String what) {
    checks++;
    if (!ok) {
      failures++;
      System.err.println("FAILED: " + what);
    }
  }

  private interface Body {
    void run() throws Exception;
  }

  private static void expectStatus(KringException.Status expected, Body body, String what) {
    try {
      body.run();
      check(false, what + ": expected " + expected + ", nothing thrown");
    } catch (KringException e) {
      check(e.status() == expected, what + ": expected " + expected + ", got " + e.status());
    } catch (Exception e) {
      check(false, what + ": unexpected " + e);
    }
  }

  /** kringd on 127.0.0.1:0 with a data dir that survives restarts (the port changes). */
  static final class Kringd implements AutoCloseable {
    private final Path dir;
    private Process process;
    String address;

    Kringd(Path dir) throws Exception {
      this.dir = dir;
      start();
    }

    void start() throws Exception {
      Path portFile = dir.resolve("port");
      Files.deleteIfExists(portFile);
      process =
          new ProcessBuilder(
                  System.getProperty("kring.kringd"),
                  "--listen", "127.0.0.1:0",
                  "--data-dir", dir.resolve("data").toString(),
                  "--port-file", portFile.toString(),
                  "--log-level", "warn",
                  // All tests sign in from 127.0.0.1: no per-address limit.
                  "--unauthenticated-rate", "0")
              .inheritIO()
              .start();
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
      while (System.nanoTime() < deadline) {
        if (Files.exists(portFile)) {
          String port = Files.readString(portFile, StandardCharsets.UTF_8).trim();
          if (!port.isEmpty() && Integer.parseInt(port) > 0) {
            address = "127.0.0.1:" + port;
            return;
          }
        }
        if (!process.isAlive()) {
          throw new IllegalStateException("kringd exited during start-up");
        }
        Thread.sleep(10); // polling a file kringd writes atomically; bounded by the deadline
      }
      stop();
      throw new IllegalStateException("kringd did not start in time");
    }

    void stop() {
      if (process != null) {
        process.destroyForcibly();
        boolean interrupted = false;
        while (process.isAlive()) {
          try {
            process.waitFor();
          } catch (InterruptedException e) {
            interrupted = true;
          }
        }
        process = null;
        if (interrupted) {
          Thread.currentThread().interrupt();
        }
      }
    }

    @Override
    public void close() {
      stop();
    }
  }

  private static byte[] key(int seed) {
    byte[] k = new byte[KringClient.STORAGE_KEY_SIZE];
    Arrays.fill(k, (byte) seed);
    return k;
  }

  private static Model.Value text(String s) {
    return Model.Value.newBuilder().setText(s).build();
  }

  private static Model.Entity entity(Model.CaseState state, byte[] id) {
    return state.getEntitiesMap().get(KringClient.hex(id));
  }

  public static void main(String[] args) throws Exception {
    Path tmp = Files.createTempDirectory("kring-java-test");
    ExecutorService appExecutor =
        Executors.newSingleThreadExecutor(r -> new Thread(r, "app-executor"));
    try (Kringd server = new Kringd(tmp.resolve("kringd"))) {
      run(server, tmp, appExecutor);
      membership(server, tmp, appExecutor);
      syncReport(server, tmp);
      statusMapping();
    } finally {
      appExecutor.shutdownNow();
      try (Stream<Path> files = Files.walk(tmp)) {
        files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
      } catch (IOException e) {
        // best effort
      }
    }
    System.out.println(checks + " checks, " + failures + " failed");
    System.exit(failures == 0 ? 0 : 1);
  }

  /**
   * What a sync tells: the conflicts it brought (two devices changed one field at once) and this
   * device's own changes a rule of the case refused once they reached the log.
   */
  private static void syncReport(Kringd server, Path tmp) throws Exception {
    try (KringClient first =
            KringClient.open(tmp.resolve("report-first.db").toString(), key(21), server.address,
                null, false);
        KringClient second =
            KringClient.open(tmp.resolve("report-second.db").toString(), key(22), server.address,
                null, false)) {
      byte[] firstId = first.createAccount().accountId();
      byte[] secondId = second.createAccount().accountId();
      byte[] caseId =
          first.createCase(
              List.of(
                  member(firstId, Case.Role.ROLE_COORDINATOR),
                  member(secondId, Case.Role.ROLE_MEMBER)));
      byte[] note = first.createEntity(caseId, "note");
      first.setField(caseId, note, "t", text("begin"));
      first.syncNow();
      SyncStats fetched = second.syncNow();
      check(fetched.newConflicts().isEmpty(), "no conflict before anyone edits at once");
      check(fetched.refused().isEmpty(), "nothing refused before");

      // Both change the note with the same value in view; the first reaches the server first.
      first.setField(caseId, note, "t", text("van de eerste"));
      second.setField(caseId, note, "t", text("van de tweede"));
      first.syncNow();
      SyncStats stats = second.syncNow();
      check(stats.newConflicts().size() == 1, "the sync names the case with a new conflict");
      if (stats.newConflicts().size() == 1) {
        SyncProto.CaseConflicts c = stats.newConflicts().get(0);
        check(Arrays.equals(c.getCaseId().toByteArray(), caseId), "the conflict's case");
        check(c.getCount() == 1, "one new conflict");
      }
      check(second.syncNow().newConflicts().isEmpty(), "a conflict is told once");
      SyncStats other = first.syncCase(caseId);
      check(other.newConflicts().size() == 1, "the other device hears of it at its sync");

      // Only the chair writes the plan's settings: a raw change by a member reaches the log and
      // has no effect on any device; its author's sync says so, with why and without content.
      second.createEntity(caseId, "plan_settings");
      SyncStats refusedStats = second.syncNow();
      check(refusedStats.refused().size() == 1, "the refused change is told");
      if (refusedStats.refused().size() == 1) {
        SyncProto.RefusedChange r = refusedStats.refused().get(0);
        check(Arrays.equals(r.getCaseId().toByteArray(), caseId), "the refused change's case");
        check(r.getSeq() > 0, "its place in the log");
        check(r.getReason().equals("rule.chair_only"), "why: " + r.getReason());
        check(!r.getTextNl().isEmpty() && !r.getTextEn().isEmpty(), "its text in both languages");
      }
      check(second.syncNow().refused().isEmpty(), "a refused change is told once");
      check(first.syncNow().refused().isEmpty(), "not to another device");
    }
  }

  private static void statusMapping() {
    for (KringException.Status s : KringException.Status.values()) {
      check(KringException.Status.fromCode(s.code()) == s, "fromCode(" + s.code() + ")");
    }
    check(
        KringException.Status.fromCode(1000) == KringException.Status.INTERNAL,
        "an unknown code maps to INTERNAL");
    check(KringException.Status.UNAVAILABLE.isTransient(), "UNAVAILABLE is transient");
    check(!KringException.Status.NOT_FOUND.isTransient(), "NOT_FOUND is not transient");
  }

  private static Case.Member member(byte[] accountId, Case.Role role) {
    return Case.Member.newBuilder()
        .setAccountId(com.google.protobuf.ByteString.copyFrom(accountId))
        .setRole(role)
        .build();
  }

  private static boolean hasMember(List<Case.Member> members, byte[] accountId) {
    return members.stream().anyMatch(m -> Arrays.equals(m.getAccountId().toByteArray(), accountId));
  }

  private static Case.Role roleOf(Model.CaseState state, byte[] accountId) {
    for (Case.Member m : state.getMembersList()) {
      if (Arrays.equals(m.getAccountId().toByteArray(), accountId)) {
        return m.getRole();
      }
    }
    return null;
  }

  private static Model.InviteState.Status inviteStatus(Model.CaseState state, byte[] inviteId) {
    for (Model.InviteState inv : state.getInvitesList()) {
      if (Arrays.equals(inv.getInviteId().toByteArray(), inviteId)) {
        return inv.getStatus();
      }
    }
    return null;
  }

  /**
   * A coordinator invites someone through a link; the invitee accepts, waits without content,
   * is approved and reads what is written afterwards; then is removed and told so.
   */
  private static void membership(Kringd server, Path tmp, ExecutorService appExecutor)
      throws Exception {
    try (KringClient coordinator =
            KringClient.open(tmp.resolve("coordinator.db").toString(), key(3), server.address,
                null, false);
        KringClient invitee =
            KringClient.open(tmp.resolve("invitee.db").toString(), key(4), server.address, null,
                false)) {
      byte[] coordinatorId = coordinator.createAccount().accountId();
      byte[] inviteeId = invitee.createAccount().accountId();

      byte[] caseId =
          coordinator.createCase(List.of(member(coordinatorId, Case.Role.ROLE_COORDINATOR)), false);
      byte[] before = coordinator.createEntity(caseId, "note");
      Invitation invitation = coordinator.createInvite(caseId, Case.Role.ROLE_MEMBER, 3600);
      check(invitation.inviteId().length == KringClient.ID_SIZE, "invite id size");
      check(invitation.link().startsWith("kring://invite/1/"), "invite link");
      check(!invitation.toString().contains(invitation.link()), "toString hides the link");
      coordinator.syncNow();
      check(!coordinator.confirmedView(caseId).getNewcomersReadHistory(), "from now on");
      expectStatus(
          KringException.Status.INVALID_ARGUMENT,
          () -> coordinator.createInvite(caseId, Case.Role.ROLE_MEMBER, 0),
          "an invite valid for 0 seconds");

      BlockingQueue<ChangeEvent> events = new LinkedBlockingQueue<>();
      KringClient.Registration registration = invitee.addChangeListener(appExecutor, events::add);
      check(Arrays.equals(invitee.acceptInvite(invitation.qrText()), caseId), "accept: case id");
      invitee.syncNow();
      check(invitee.view(caseId).getPendingApproval(), "the invitee waits for approval");
      check(invitee.view(caseId).getEntitiesCount() == 0, "no content while waiting");

      // The same link once more, by someone else: refused by the server, with its reason.
      try (KringClient latecomer =
          KringClient.open(tmp.resolve("latecomer.db").toString(), key(9), server.address, null,
              false)) {
        latecomer.createAccount();
        BlockingQueue<ChangeEvent> late = new LinkedBlockingQueue<>();
        ChangeEvent rejected = null;
        KringClient.Registration lateRegistration =
            latecomer.addChangeListener(appExecutor, late::add);
        try {
          latecomer.acceptInvite(invitation.link());
          latecomer.syncNow();
          for (ChangeEvent e = late.poll(10, TimeUnit.SECONDS);
              e != null;
              e = late.poll(1, TimeUnit.SECONDS)) {
            if (e.kind() == ChangeEvent.Kind.INTENT_REJECTED) {
              rejected = e;
              break;
            }
            check(e.serverReason().isEmpty(), "no reason on other events");
          }
        } finally {
          lateRegistration.close();
        }
        check(rejected != null, "the used link is rejected");
        check(rejected != null && rejected.serverReason().equals("INVITE_USED"), "its reason");
        check(rejected != null && rejected.count() == 1, "one change rejected");
        check(
            rejected != null && rejected.userText("nl").equals("Deze uitnodiging is al gebruikt."),
            "its Dutch text");
        check(
            rejected != null && rejected.userText("en").equals("This invitation was already used."),
            "its English text");
      }

      coordinator.syncNow();
      Model.CaseState state = coordinator.confirmedView(caseId);
      check(
          inviteStatus(state, invitation.inviteId()) == Model.InviteState.Status.ACCEPTED,
          "the invite is accepted");
      check(hasMember(state.getPendingMembersList(), inviteeId), "the invitee is pending");
      coordinator.approveMember(caseId, inviteeId);
      coordinator.syncNow();
      byte[] plan = coordinator.createEntity(caseId, "plan");
      coordinator.setField(caseId, plan, "title", text("Weekplan"));
      coordinator.syncNow();
      check(
          inviteStatus(coordinator.confirmedView(caseId), invitation.inviteId())
              == Model.InviteState.Status.APPROVED,
          "the invite is approved");

      invitee.syncNow();
      Model.CaseState mine = invitee.confirmedView(caseId);
      check(!mine.getPendingApproval(), "no longer waiting");
      check(hasMember(mine.getMembersList(), inviteeId), "the invitee is a member");
      Model.Entity seen = entity(mine, plan);
      check(
          seen != null && seen.getFieldsMap().get("title").getValue().getText().equals("Weekplan"),
          "the invitee reads what was written after approval");
      check(entity(mine, before) == null, "but not what came before");

      // Roles: before the resident joins the coordinator decides; no new key comes with a change.
      expectStatus(
          KringException.Status.PERMISSION_DENIED,
          () -> invitee.setRole(caseId, inviteeId, Case.Role.ROLE_COORDINATOR),
          "a plain member cannot change roles");
      expectStatus(
          KringException.Status.PERMISSION_DENIED,
          () -> coordinator.setRole(caseId, coordinatorId, Case.Role.ROLE_MEMBER),
          "the last one who hands out keys stays");
      coordinator.setRole(caseId, inviteeId, Case.Role.ROLE_COORDINATOR);
      coordinator.syncNow();
      invitee.syncNow();
      check(
          roleOf(invitee.confirmedView(caseId), inviteeId) == Case.Role.ROLE_COORDINATOR,
          "the invitee's device sees its new role");
      invitee.setRole(caseId, inviteeId, Case.Role.ROLE_MEMBER);
      invitee.syncNow();
      coordinator.syncNow();
      check(
          roleOf(coordinator.confirmedView(caseId), inviteeId) == Case.Role.ROLE_MEMBER,
          "a coordinator steps back to member");

      // Revoke and decline paths, and a refused language.
      Invitation unused = coordinator.createInvite(caseId, Case.Role.ROLE_MEMBER, 60);
      coordinator.syncNow();
      coordinator.revokeInvite(caseId, unused.inviteId());
      coordinator.syncNow();
      check(
          inviteStatus(coordinator.confirmedView(caseId), unused.inviteId())
              == Model.InviteState.Status.REVOKED,
          "revoked");
      expectStatus(
          KringException.Status.PERMISSION_DENIED,
          () -> coordinator.declineMember(caseId, inviteeId),
          "decline someone who is not waiting");
      expectStatus(
          KringException.Status.INVALID_ARGUMENT,
          () -> coordinator.removeMember(caseId, inviteeId, "de"),
          "an unknown language");
      expectStatus(
          KringException.Status.INVALID_ARGUMENT,
          () -> invitee.acceptInvite("https://example.org"),
          "not an invitation link");

      // Removal: the notice, then the removed device is told at its next sync.
      String notice = coordinator.removeMember(caseId, inviteeId, "nl");
      check(notice.contains("niet meer lezen"), "Dutch removal notice: " + notice);
      coordinator.syncNow();
      coordinator.setField(caseId, plan, "after", text("na de verwijdering"));
      coordinator.syncNow();
      invitee.syncNow();
      boolean removed = false;
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(WAIT_SECONDS);
      while (!removed && System.nanoTime() < deadline) {
        ChangeEvent e = events.poll(deadline - System.nanoTime(), TimeUnit.NANOSECONDS);
        if (e == null) {
          break;
        }
        removed = e.kind() == ChangeEvent.Kind.REMOVED_FROM_CASE && e.isAbout(caseId);
      }
      check(removed, "the invitee was told it was removed");
      Model.CaseState after = invitee.confirmedView(caseId);
      check(after.getRemoved(), "CaseState.removed");
      Model.Entity kept = entity(after, plan);
      check(kept != null && !kept.getFieldsMap().containsKey("after"), "nothing after removal");
      registration.close();

      // addMember into a case that lets newcomers read history.
      byte[] open = coordinator.createCase(List.of(), true);
      byte[] minutes = coordinator.createEntity(open, "minutes");
      coordinator.syncNow();
      check(coordinator.confirmedView(open).getNewcomersReadHistory(), "newcomers read history");
      coordinator.addMember(open, inviteeId, Case.Role.ROLE_MEMBER);
      coordinator.syncNow();
      invitee.syncNow();
      check(entity(invitee.confirmedView(open), minutes) != null, "a newcomer reads history");

      // The invitee leaves the open case; the chair's device makes the next key by itself.
      String keyBefore = coordinator.epochFingerprint(open);
      check(keyBefore.startsWith("epoch "), "epoch fingerprint: " + keyBefore);
      check(invitee.epochFingerprint(open).equals(keyBefore), "both devices show the same key");
      expectStatus(
          KringException.Status.INVALID_ARGUMENT,
          () -> invitee.leaveCase(open, "de"),
          "leave: an unknown language");
      String left = invitee.leaveCase(open, "en");
      check(left.contains("You have left the circle"), "English leave notice: " + left);
      invitee.syncNow();
      check(invitee.confirmedView(open).getRemoved(), "the leaver's view is marked removed");
      coordinator.syncNow();
      coordinator.syncNow();
      String afterLeave = coordinator.epochFingerprint(open);
      check(!afterLeave.equals(keyBefore), "a new key after the leave: " + afterLeave);
      check(
          !hasMember(coordinator.confirmedView(open).getMembersList(), inviteeId),
          "the leaver is no longer a member");
      check(coordinator.alarms().isEmpty() && invitee.alarms().isEmpty(), "no alarms");
    }
  }

  private static void run(Kringd server, Path tmp, ExecutorService appExecutor) throws Exception {
    String aliceDb = tmp.resolve("alice.db").toString();
    String bobDb = tmp.resolve("bob.db").toString();

    KringClient alice = KringClient.open(aliceDb, key(1), server.address, null, false);
    KringClient bob = KringClient.open(bobDb, key(2), server.address, null, true);
    Account aliceAccount = alice.createAccount();
    Account bobAccount = bob.createAccount();
    check(aliceAccount.accountId().length == KringClient.ID_SIZE, "account id size");
    check(!aliceAccount.recoveryKey().isEmpty(), "recovery key shown once");
    check(
        alice.account().safetyNumber().equals(aliceAccount.safetyNumber()),
        "account() returns the safety number");
    check(alice.account().recoveryKey() == null, "account() never returns the recovery key");
    check(
        bob.safetyNumberOf(aliceAccount.accountId()).equals(aliceAccount.safetyNumber()),
        "Bob sees Alice's safety number");
    expectStatus(KringException.Status.ALREADY_EXISTS, alice::createAccount, "second account");

    // Alice creates the case with Bob in it and syncs it to the server.
    byte[] caseId =
        alice.createCase(
            List.of(
                Case.Member.newBuilder()
                    .setAccountId(com.google.protobuf.ByteString.copyFrom(bobAccount.accountId()))
                    .setRole(Case.Role.ROLE_MEMBER)
                    .build()));
    check(caseId.length == KringClient.ID_SIZE, "case id size");
    alice.syncNow();

    // The server goes away; Alice writes the plan offline.
    server.stop();
    byte[] plan = alice.createEntity(caseId, "plan");
    alice.setField(caseId, plan, "title", text("Weekplan van Sanne"));
    byte[] task = alice.addToSet(caseId, plan, "tasks", text("boodschappen op dinsdag"));
    check(task.length == KringClient.ID_SIZE, "element id size");
    check(alice.pendingIntents(caseId) >= 3, "offline edits are pending");
    Model.Entity optimistic = entity(alice.view(caseId), plan);
    check(
        optimistic != null
            && optimistic.getFieldsMap().get("title").getValue().getText().equals(
                "Weekplan van Sanne"),
        "the optimistic view shows the offline edit");
    check(entity(alice.confirmedView(caseId), plan) == null, "the confirmed view does not");
    try {
      alice.syncNow();
      check(false, "sync without a server fails");
    } catch (KringException e) {
      check(e.status().isTransient(), "sync without a server is transient: " + e.status());
    }

    // Restart: the edit survived in the store; kringd comes back on another port.
    alice.close();
    bob.close();
    server.start();
    alice = KringClient.open(aliceDb, key(1), server.address, null, false);
    bob = KringClient.open(bobDb, key(2), server.address, null, true);
    check(alice.pendingIntents(caseId) >= 3, "pending edits survive a restart");

    BlockingQueue<ChangeEvent> events = new LinkedBlockingQueue<>();
    List<String> threads = new ArrayList<>();
    KringClient.Registration registration =
        bob.addChangeListener(
            appExecutor,
            e -> {
              synchronized (threads) {
                threads.add(Thread.currentThread().getName());
              }
              events.add(e);
            });

    SyncStats stats = alice.syncNow();
    check(stats.pushed() >= 3, "Alice pushed her offline edits: " + stats.pushed());
    check(alice.pendingIntents(caseId) == 0, "nothing pending after sync");

    // Bob's background sync picks it up (server poke) and tells the app on its executor.
    boolean seen = false;
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(WAIT_SECONDS);
    while (!seen && System.nanoTime() < deadline) {
      ChangeEvent e = events.poll(deadline - System.nanoTime(), TimeUnit.NANOSECONDS);
      if (e == null) {
        break;
      }
      Model.CaseState s = bob.view(caseId);
      seen = e.kind() == ChangeEvent.Kind.CASE_CHANGED && e.isAbout(caseId) && entity(s, plan) != null;
    }
    check(seen, "Bob's listener was told about the plan");
    synchronized (threads) {
      check(
          !threads.isEmpty() && threads.stream().allMatch("app-executor"::equals),
          "listener ran on the app's executor: " + threads);
    }
    Model.CaseState atBob = bob.confirmedView(caseId);
    Model.Entity bobPlan = entity(atBob, plan);
    check(
        bobPlan != null
            && bobPlan.getFieldsMap().get("title").getValue().getText().equals(
                "Weekplan van Sanne"),
        "Bob reads the plan's title");
    check(
        bobPlan != null && bobPlan.getSetsMap().get("tasks").getElementsCount() == 1,
        "Bob reads the plan's task");
    check(
        bob.cases().size() == 1 && Arrays.equals(bob.cases().get(0), caseId),
        "Bob knows the case");
    check(atBob.getMembersCount() == 2, "two members");

    // Bob edits back through a raw ContentOp and the async sync.
    Model.ContentOp op =
        Model.ContentOp.newBuilder()
            .addMutations(
                Model.Mutation.newBuilder()
                    .setSetField(
                        Model.SetField.newBuilder()
                            .setEntityId(com.google.protobuf.ByteString.copyFrom(plan))
                            .setField("done")
                            .setValue(Model.Value.newBuilder().setFlag(true))))
            .build();
    bob.submit(caseId, op);
    bob.removeFromSet(caseId, plan, "tasks", task);
    CompletableFuture<Void> bobSync = bob.syncAsync();
    bobSync.get(WAIT_SECONDS, TimeUnit.SECONDS);
    alice.syncAsync().get(WAIT_SECONDS, TimeUnit.SECONDS);
    Model.Entity back = entity(alice.confirmedView(caseId), plan);
    check(
        back != null && back.getFieldsMap().get("done").getValue().getFlag(),
        "Alice sees Bob's edit");
    check(
        back != null
            && back.getSetsMap().get("tasks").getElementsMap().values().stream()
                .allMatch(el -> el.getLiveTagsCount() == 0),
        "Alice sees the task removed");
    alice.deleteEntity(caseId, plan);
    alice.restoreEntity(caseId, plan);
    check(!entity(alice.view(caseId), plan).getDeleted(), "delete then restore");
    check(alice.alarms().isEmpty(), "no alarms");

    // One case only: syncCase sends Alice's edit, syncCaseAsync brings it to Bob.
    alice.setField(caseId, plan, "title", text("Weekplan van Sanne, bijgewerkt"));
    SyncStats one = alice.syncCase(caseId);
    check(one.pushed() >= 1, "syncCase pushed Alice's edit: " + one.pushed());
    check(alice.pendingIntents(caseId) == 0, "nothing pending after syncCase");
    bob.syncCaseAsync(caseId).get(WAIT_SECONDS, TimeUnit.SECONDS);
    Model.Entity updated = entity(bob.confirmedView(caseId), plan);
    check(
        updated != null
            && updated.getFieldsMap().get("title").getValue().getText().equals(
                "Weekplan van Sanne, bijgewerkt"),
        "Bob reads the edit after syncCaseAsync");

    // Errors arrive as KringException with the mapped status.
    final KringClient a = alice;
    expectStatus(
        KringException.Status.NOT_FOUND, () -> a.syncCase(new byte[16]), "syncCase unknown case");
    expectStatus(
        KringException.Status.INVALID_ARGUMENT, () -> a.syncCase(new byte[3]), "syncCase short id");
    expectStatus(
        KringException.Status.INVALID_ARGUMENT,
        () -> a.syncCaseAsync(new byte[3]),
        "syncCaseAsync short id");
    expectStatus(KringException.Status.INVALID_ARGUMENT, () -> a.view(new byte[3]), "short id");
    expectStatus(
        KringException.Status.NOT_FOUND, () -> a.view(new byte[16]), "unknown case");
    expectStatus(
        KringException.Status.INVALID_ARGUMENT,
        () -> a.submit(caseId, Model.ContentOp.newBuilder().setVersion(7).build()),
        "unknown ContentOp version");

    // Removing the listener, then closing: idempotent; calls after close are refused.
    registration.close();
    registration.close();
    CompletableFuture<Void> pending = alice.syncAsync();
    alice.close();
    alice.close();
    try {
      pending.get(WAIT_SECONDS, TimeUnit.SECONDS);
      check(true, "async sync finished before close");
    } catch (ExecutionException e) {
      check(
          e.getCause() instanceof KringException
              && ((KringException) e.getCause()).status() == KringException.Status.CANCELLED,
          "async sync cancelled by close: " + e.getCause());
    } catch (TimeoutException e) {
      check(false, "async sync completed after close");
    }
    try {
      alice.cases();
      check(false, "use after close is refused");
    } catch (IllegalStateException e) {
      check(true, "use after close is refused");
    }
    bob.close();
  }
}
