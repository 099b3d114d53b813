package nl.kring;

import com.google.protobuf.ByteString;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import kring.v1.Case;
import kring.v1.Model;
import nl.kring.abi.DevicesProto;
import nl.kring.abi.DomainProto;

/**
 * ABI 5 from Java against a real kringd: a restricted scope that one member never receives,
 * closing and erasing a case (the erased case disappears from another device, with a
 * CASE_DELETED event on the app's executor), a small netwerkberaad through {@link
 * KringClient#domain} with a refusal's key and Dutch text, and the device functions (link, list,
 * revoke, restore).
 *
 * <p>System property kring.kringd: path of the kringd binary.
 */
public final class ScopesDomainTest {
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

  /** Runs body, which must throw a KringException with this status; returns it. */
  private static KringException expectStatus(
      KringException.Status expected, Body body, String what) {
    try {
      body.run();
      check(false, what + ": expected " + expected + ", nothing thrown");
    } catch (KringException e) {
      check(e.status() == expected, what + ": expected " + expected + ", got " + e.status());
      return e;
    } catch (Exception e) {
      check(false, what + ": unexpected " + e);
    }
    return null;
  }

  private static byte[] key(int seed) {
    byte[] k = new byte[KringClient.STORAGE_KEY_SIZE];
    Arrays.fill(k, (byte) seed);
    return k;
  }

  private static ByteString bs(byte[] b) {
    return ByteString.copyFrom(b);
  }

  private static Case.Member member(byte[] accountId, Case.Role role) {
    return Case.Member.newBuilder().setAccountId(bs(accountId)).setRole(role).build();
  }

  private static boolean has(Model.CaseState state, byte[] entityId) {
    return state.getEntitiesMap().containsKey(KringClient.hex(entityId));
  }

  private static boolean contains(List<byte[]> ids, byte[] id) {
    return ids.stream().anyMatch(x -> Arrays.equals(x, id));
  }

  private static void syncAll(KringClient... clients) throws KringException {
    for (int round = 0; round < 2; round++) {
      for (KringClient c : clients) {
        c.syncNow();
      }
    }
  }

  public static void main(String[] args) throws Exception {
    Path tmp = Files.createTempDirectory("kring-java-abi5");
    ExecutorService appExecutor =
        Executors.newSingleThreadExecutor(r -> new Thread(r, "app-executor"));
    try (KringClientTest.Kringd server = new KringClientTest.Kringd(tmp.resolve("kringd"));
        KringClient resident = open(tmp, "resident", 1, server);
        KringClient coordinator = open(tmp, "coordinator", 2, server);
        KringClient aunt = open(tmp, "aunt", 3, server)) {
      Account created = resident.createAccount();
      byte[] residentId = created.accountId();
      byte[] coordinatorId = coordinator.createAccount().accountId();
      byte[] auntId = aunt.createAccount().accountId();
      List<Case.Member> members =
          List.of(
              member(coordinatorId, Case.Role.ROLE_COORDINATOR),
              member(auntId, Case.Role.ROLE_MEMBER));
      scopes(resident, coordinator, aunt, resident.createCase(members), auntId);
      closeAndErase(resident, aunt, members, appExecutor);
      domain(resident, coordinator, aunt, resident.createCase(members), residentId);
      removal(resident, coordinator, aunt, resident.createCase(members));
      devices(resident, tmp, server, created.recoveryKey());
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

  private static KringClient open(Path tmp, String name, int seed, KringClientTest.Kringd server)
      throws KringException {
    return KringClient.open(
        tmp.resolve(name + ".db").toString(), key(seed), server.address, null, false);
  }

  /** A note in a scope of the resident and the aunt never reaches the coordinator's device. */
  private static void scopes(
      KringClient resident, KringClient coordinator, KringClient aunt, byte[] caseId, byte[] auntId)
      throws Exception {
    syncAll(resident, coordinator, aunt);
    long scope = resident.createScope(caseId, List.of(auntId));
    check(scope != 0, "a scope id");
    byte[] note = resident.createEntity(caseId, "note", scope);
    resident.setField(
        caseId, note, "text", Model.Value.newBuilder().setText("Nieuw adres").build());
    byte[] raw = new byte[KringClient.ID_SIZE];
    Arrays.fill(raw, (byte) 0x4B);
    // An entity id created in a scope starts with that scope's id (big-endian).
    for (int i = 0; i < 4; i++) raw[i] = (byte) (scope >>> (24 - 8 * i));
    resident.submit(
        caseId,
        Model.ContentOp.newBuilder()
            .addMutations(
                Model.Mutation.newBuilder()
                    .setCreateEntity(
                        Model.CreateEntity.newBuilder().setEntityId(bs(raw)).setType("note")))
            .build(),
        scope);
    check(resident.scopeOf(caseId, note) == scope, "scopeOf on the author's device");
    syncAll(resident, coordinator, aunt);
    check(has(aunt.confirmedView(caseId), note), "the aunt reads the note");
    check(aunt.scopeOf(caseId, raw) == scope, "the raw op is in the scope too");
    check(
        aunt.confirmedView(caseId)
            .getEntitiesMap()
            .get(KringClient.hex(note))
            .getFieldsMap()
            .get("text")
            .getValue()
            .getText()
            .equals("Nieuw adres"),
        "the note's text");
    check(!has(coordinator.confirmedView(caseId), note), "the coordinator never gets it");
    expectStatus(
        KringException.Status.NOT_FOUND,
        () -> coordinator.scopeOf(caseId, note),
        "scopeOf where the entity is hidden");
    expectStatus(
        KringException.Status.INVALID_ARGUMENT,
        () -> resident.setScopeMembers(caseId, 0, List.of(auntId)),
        "scope 0 is the whole case");
  }

  /** Closing keeps the case read-only; erasing removes it from the aunt's device. */
  private static void closeAndErase(
      KringClient resident, KringClient aunt, List<Case.Member> members, ExecutorService executor)
      throws Exception {
    byte[] closed = resident.createCase(members);
    byte[] erased = resident.createCase(members);
    syncAll(resident, aunt);
    check(contains(aunt.cases(), erased), "the aunt has the case before erasure");
    BlockingQueue<ChangeEvent> events = new LinkedBlockingQueue<>();
    KringClient.Registration registration = aunt.addChangeListener(executor, events::add);
    try {
      expectStatus(
          KringException.Status.INVALID_ARGUMENT,
          () -> resident.closeCase(closed, 3651),
          "retention beyond ten years");
      resident.closeCase(closed, 30);
      resident.eraseCase(erased);
      syncAll(resident, aunt);
      Model.CaseState state = aunt.confirmedView(closed);
      check(state.getClosed(), "the closed case is closed on the aunt's device");
      check(state.getRetentionDays() == 30, "with its retention");
      check(!contains(aunt.cases(), erased), "the erased case is gone from the aunt's device");
      expectStatus(
          KringException.Status.NOT_FOUND, () -> aunt.view(erased), "no view of an erased case");
      boolean deleted = false;
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(WAIT_SECONDS);
      while (!deleted && System.nanoTime() < deadline) {
        ChangeEvent e = events.poll(deadline - System.nanoTime(), TimeUnit.NANOSECONDS);
        if (e != null && e.kind() == ChangeEvent.Kind.CASE_DELETED && e.isAbout(erased)) {
          deleted = true;
        }
      }
      check(deleted, "CASE_DELETED on the app's executor");
    } finally {
      registration.close();
    }
  }

  private static DomainProto.DomainRequest.Builder req() {
    return DomainProto.DomainRequest.newBuilder();
  }

  private static DomainProto.Id id(byte[] b) {
    return DomainProto.Id.newBuilder().setId(bs(b)).build();
  }

  private static DomainProto.PersonInput person(String name, String kind, String phone) {
    return DomainProto.PersonInput.newBuilder()
        .setName(name)
        .setKind(kind)
        .setRelation(kind.equals("resident") ? "" : "tante")
        .setHasApp(true)
        .setContact(DomainProto.ContactDetails.newBuilder().setPhone(phone))
        .build();
  }

  /** Referral, circle, an agreement, a draft in private time, released and accepted. */
  private static void domain(
      KringClient resident,
      KringClient coordinator,
      KringClient aunt,
      byte[] caseId,
      byte[] residentId)
      throws Exception {
    syncAll(resident, coordinator);
    DomainProto.ReferralInput.Builder referral =
        DomainProto.ReferralInput.newBuilder()
            .setReferrerKind("professional")
            .setResident(person("Sanne de Vries", "resident", "06-11223344"))
            .setReason("Sanne wil weer grip op haar geld.")
            .addInvitees(person("Ria de Vries", "family", "06-12345678"));
    // A text beyond ASCII ("\u00e9\u00e9n") takes the JNI's String(byte[], "UTF-8") path.
    KringException noInvitees =
        expectStatus(
            KringException.Status.INVALID_ARGUMENT,
            () ->
                coordinator.domain(
                    caseId, req().setSubmitReferral(referral.clone().clearInvitees()).build()),
            "a referral without invitees");
    check(
        noInvitees != null
            && noInvitees
                .userText("nl")
                .equals("Noem minstens \u00e9\u00e9n persoon om uit te nodigen."),
        "its Dutch text, accents kept");
    KringException refused =
        expectStatus(
            KringException.Status.INVALID_ARGUMENT,
            () -> coordinator.domain(caseId, req().setSubmitReferral(referral).build()),
            "a referral without consent");
    check(
        refused != null && refused.domainKey().equals("referral.no_consent"),
        "its key: " + (refused == null ? "" : refused.getMessage() + "/" + refused.domainKey()));
    check(
        refused != null
            && refused.userText("nl").equals("De bewoner moet eerst toestemming geven."),
        "its Dutch text");
    check(refused != null && !refused.userText("en").isEmpty(), "its English text");
    check(refused != null && refused.userText("de").isEmpty(), "no text in other languages");

    byte[] referralId =
        coordinator
            .domain(caseId, req().setSubmitReferral(referral.setResidentConsent(true)).build())
            .getId()
            .toByteArray();
    check(referralId.length == KringClient.ID_SIZE, "the referral's id");
    syncAll(coordinator, resident);
    DomainProto.DomainResponse circle =
        resident.domain(caseId, req().setCircle(DomainProto.Empty.getDefaultInstance()).build());
    check(circle.getPeopleCount() == 2, "the resident sees two people");
    byte[] sanne = null;
    byte[] ria = null;
    for (DomainProto.Person p : circle.getPeopleList()) {
      if (p.getName().equals("Sanne de Vries")) {
        sanne = p.getPersonId().toByteArray();
        check(p.getStatus().equals("approved"), "the resident is in the circle at once");
      } else {
        ria = p.getPersonId().toByteArray();
        check(p.getStatus().equals("proposed"), "an invitee is proposed until approved");
      }
    }
    for (byte[] p : List.of(sanne, ria)) {
      coordinator.domain(caseId, req().setApprovePerson(id(p)).build());
    }
    coordinator.domain(
        caseId,
        req()
            .setLinkAccount(
                DomainProto.LinkAccount.newBuilder()
                    .setPersonId(bs(sanne))
                    .setAccountId(bs(residentId)))
            .build());
    byte[] agreement =
        coordinator
            .domain(
                caseId,
                req()
                    .setAddAgreement(
                        DomainProto.AgreementInput.newBuilder()
                            .setOwner(bs(sanne))
                            .setAction("Post openen met Ria")
                            .setDueMs(1893456000000L)
                            .setChecker(bs(ria)))
                    .build())
            .getId()
            .toByteArray();
    syncAll(coordinator, resident);

    long network =
        resident
            .domain(caseId, req().setNetworkScope(DomainProto.Empty.getDefaultInstance()).build())
            .getScopeId();
    check(network != 0, "the network's own scope");
    DomainProto.PlanContent content =
        DomainProto.PlanContent.newBuilder()
            .setIkWil("Ik wil rust in huis.")
            .setIkKan("Ik kan koken.")
            .setIkHebNodig("Hulp met geld.")
            .putLifeDomains("finances", "Schulden in kaart.")
            .setContingency("Als het misgaat, bellen we Ria.")
            .setContactPerson(bs(ria))
            .build();
    byte[] draft =
        resident
            .domain(
                caseId,
                req()
                    .setCreateDraft(
                        DomainProto.CreateDraft.newBuilder()
                            .setScopeId((int) network)
                            .setContent(content))
                    .build())
            .getId()
            .toByteArray();
    byte[] version =
        resident.domain(caseId, req().setReleasePlan(id(draft)).build()).getId().toByteArray();
    resident.domain(
        caseId,
        req()
            .setAcceptPlan(
                DomainProto.AcceptPlan.newBuilder().setVersionId(bs(version)).setNowMs(1L << 40))
            .build());
    resident.domain(caseId, req().setAcceptAgreement(id(agreement)).build());
    syncAll(resident, coordinator);

    DomainProto.DomainResponse plan =
        coordinator.domain(
            caseId, req().setCurrentPlan(DomainProto.Empty.getDefaultInstance()).build());
    check(plan.hasPlan(), "the coordinator reads the plan");
    check(Arrays.equals(plan.getPlan().getVersionId().toByteArray(), version), "version 1");
    check(plan.getPlan().getContent().getIkWil().equals("Ik wil rust in huis."), "ik wil");
    DomainProto.Acceptance acceptance =
        coordinator
            .domain(caseId, req().setAcceptanceOf(id(version)).build())
            .getAcceptance();
    check(acceptance.getAccepted(), "the plan counts as accepted");
    DomainProto.Agreement a =
        coordinator.domain(caseId, req().setGetAgreement(id(agreement)).build()).getAgreements(0);
    check(a.getStatus() == DomainProto.AgreementStatus.AGREEMENT_ACCEPTED, "accepted by Sanne");
    people(resident, coordinator, aunt, caseId, sanne, ria);
  }

  /**
   * The person calls of ABI 5's second round: who am I, one person, editing a person, a contact
   * only the coordinator reads (the aunt's device, a member, never sees it), the resident's
   * question, who still needs a pre-talk, and bad input refused with nothing queued.
   */
  private static void people(
      KringClient resident,
      KringClient coordinator,
      KringClient aunt,
      byte[] caseId,
      byte[] sanne,
      byte[] ria)
      throws Exception {
    DomainProto.Empty none = DomainProto.Empty.getDefaultInstance();
    check(
        Arrays.equals(
            resident.domain(caseId, req().setMyPersonId(none).build()).getId().toByteArray(),
            sanne),
        "my person id");
    KringException notLinked =
        expectStatus(
            KringException.Status.NOT_FOUND,
            () -> coordinator.domain(caseId, req().setMyPersonId(none).build()),
            "the coordinator is no person of the circle");
    check(notLinked != null && notLinked.domainKey().equals("person.not_linked"), "its key");

    long pending = coordinator.pendingIntents(caseId);
    expectStatus(
        KringException.Status.INVALID_ARGUMENT,
        () ->
            coordinator.domain(
                caseId,
                req()
                    .setSetContact(
                        DomainProto.SetContact.newBuilder()
                            .setPersonId(ByteString.copyFrom(new byte[3]))
                            .setDetails(DomainProto.ContactDetails.newBuilder().setPhone("06")))
                    .build()),
        "a contact for a 3-byte id");
    KringException empty =
        expectStatus(
            KringException.Status.INVALID_ARGUMENT,
            () ->
                coordinator.domain(
                    caseId,
                    req()
                        .setSetContact(DomainProto.SetContact.newBuilder().setPersonId(bs(ria)))
                        .build()),
            "an empty contact");
    check(empty != null && empty.domainKey().equals("contact.empty"), "contact.empty");
    check(coordinator.pendingIntents(caseId) == pending, "nothing queued for bad input");

    coordinator.domain(
        caseId,
        req()
            .setUpdatePerson(
                DomainProto.UpdatePerson.newBuilder()
                    .setPersonId(bs(ria))
                    .setPerson(
                        DomainProto.PersonInput.newBuilder()
                            .setName("Ria de Vries-Bakker")
                            .setKind("family")
                            .setRelation("moeder")))
            .build());
    coordinator.domain(
        caseId,
        req()
            .setSetContact(
                DomainProto.SetContact.newBuilder()
                    .setPersonId(bs(ria))
                    .setDetails(
                        DomainProto.ContactDetails.newBuilder()
                            .setPhone("06-99887766")
                            .setAddress("Dorpsweg 3")))
            .build());
    coordinator.domain(
        caseId,
        req()
            .setSetResidentQuestion(
                DomainProto.ResidentQuestion.newBuilder()
                    .setIkWil("Ik wil rust in huis.")
                    .setIkKan("Ik kan koken en fietsen.")
                    .setIkHebNodig("Hulp met geld."))
            .build());
    syncAll(coordinator, resident, aunt);

    DomainProto.Person readBack =
        resident.domain(caseId, req().setGetPerson(id(ria)).build()).getPeople(0);
    check(readBack.getName().equals("Ria de Vries-Bakker"), "the new name on the other device");
    check(readBack.getRelation().equals("moeder"), "the new relation");
    DomainProto.DomainResponse contact =
        coordinator.domain(caseId, req().setContactOf(id(ria)).build());
    check(contact.hasContact(), "the coordinator reads the contact");
    check(contact.getContact().getDetails().getPhone().equals("06-99887766"), "the new phone");
    check(
        !aunt.domain(caseId, req().setContactOf(id(ria)).build()).hasContact(),
        "the aunt's device does not get the contact");
    check(
        resident
            .domain(caseId, req().setGetReferral(none).build())
            .getReferral()
            .getQuestion()
            .getIkKan()
            .equals("Ik kan koken en fietsen."),
        "the changed question");
    DomainProto.DomainResponse without =
        coordinator.domain(caseId, req().setInviteesWithoutPretalk(none).build());
    check(without.getIdsCount() == 2, "two people without a pre-talk: " + without.getIdsCount());
    meeting(resident, coordinator, caseId, sanne);
  }

  /**
   * ABI 10: a person taken out of the circle by the coordinator is seen as left on another
   * device; a plain member may not do it, and her refused call queues nothing.
   */
  private static void removal(
      KringClient resident, KringClient coordinator, KringClient aunt, byte[] caseId)
      throws Exception {
    syncAll(resident, coordinator, aunt);
    byte[] kees =
        coordinator
            .domain(
                caseId,
                req()
                    .setProposePerson(
                        DomainProto.PersonInput.newBuilder()
                            .setName("Kees")
                            .setKind("neighbour")
                            .setRelation("buurman"))
                    .build())
            .getId()
            .toByteArray();
    coordinator.domain(caseId, req().setApprovePerson(id(kees)).build());
    syncAll(coordinator, aunt);
    long pending = aunt.pendingIntents(caseId);
    KringException denied =
        expectStatus(
            KringException.Status.PERMISSION_DENIED,
            () -> aunt.domain(caseId, req().setRemovePerson(id(kees)).build()),
            "a member takes nobody out of the circle");
    check(denied != null && denied.domainKey().equals("refused.managers_only"), "its key");
    check(aunt.pendingIntents(caseId) == pending, "nothing queued for a refused removal");
    DomainProto.DomainResponse removed =
        coordinator.domain(caseId, req().setRemovePerson(id(kees)).build());
    check(removed.getIdsCount() == 0, "no open agreements named");
    check(removed.getWarningsCount() == 0, "no account that can still read");
    syncAll(coordinator, aunt);
    DomainProto.Person seen = aunt.domain(caseId, req().setGetPerson(id(kees)).build()).getPeople(0);
    check(seen.getLeft(), "the aunt's device sees Kees taken out of the circle");
    check(seen.getLeftAtMs() > 0, "with the time");
  }

  /** A poll and its answers, the meeting fixed on it and read by id, its reminders. */
  private static void meeting(
      KringClient resident, KringClient coordinator, byte[] caseId, byte[] sanne)
      throws Exception {
    long start = 1893456000000L; // 2030-01-01T00:00Z
    byte[] poll =
        coordinator
            .domain(
                caseId,
                req()
                    .setCreatePoll(
                        DomainProto.PollInput.newBuilder()
                            .addSlots(
                                DomainProto.Slot.newBuilder()
                                    .setStartMs(start)
                                    .setEndMs(start + 7_200_000L))
                            .setDeadlineMs(start - 86_400_000L))
                    .build())
            .getId()
            .toByteArray();
    syncAll(coordinator, resident);
    ByteString slot =
        resident
            .domain(caseId, req().setGetPoll(id(poll)).build())
            .getPoll()
            .getSlots(0)
            .getSlotId();
    resident.domain(
        caseId,
        req()
            .setAnswerPoll(
                DomainProto.AnswerPoll.newBuilder()
                    .setPollId(bs(poll))
                    .setPersonId(bs(sanne))
                    .setSlotId(slot)
                    .setAnswer(DomainProto.PollAnswer.POLL_ANSWER_IF_NEED_BE))
            .build());
    syncAll(resident, coordinator);
    DomainProto.DomainResponse answers =
        coordinator.domain(caseId, req().setPollAnswers(id(poll)).build());
    check(answers.getAnswersCount() == 1, "the coordinator sees Sanne's answer");
    check(
        answers.getAnswersCount() == 1
            && answers.getAnswers(0).getAnswer() == DomainProto.PollAnswer.POLL_ANSWER_IF_NEED_BE
            && Arrays.equals(answers.getAnswers(0).getPersonId().toByteArray(), sanne),
        "her answer: if need be");

    byte[] meeting =
        coordinator
            .domain(
                caseId,
                req()
                    .setFixMeeting(
                        DomainProto.FixMeeting.newBuilder()
                            .setPollId(bs(poll))
                            .setSlotId(slot)
                            .setLocation(
                                DomainProto.LocationInput.newBuilder()
                                    .setCoarse("Bij Sanne thuis")
                                    .setExact("Kerkstraat 12"))
                            .setOverrides(
                                DomainProto.FixOverrides.newBuilder()
                                    .setNoPretalkReason("Telefonisch gedaan")))
                    .build())
            .getId()
            .toByteArray();
    syncAll(coordinator, resident);
    DomainProto.Meeting byId =
        resident.domain(caseId, req().setGetMeeting(id(meeting)).build()).getMeeting();
    check(Arrays.equals(byId.getMeetingId().toByteArray(), meeting), "the meeting by its id");
    check(byId.getStartMs() == start, "its start");
    check(byId.getCoarseLocation().equals("Bij Sanne thuis"), "its coarse location");
    expectStatus(
        KringException.Status.INVALID_ARGUMENT,
        () -> resident.domain(caseId, req().setGetMeeting(id(new byte[4])).build()),
        "a meeting id of 4 bytes");

    // The meeting's record: attendance only once the meeting has begun, read back elsewhere.
    DomainProto.RecordAttendance.Builder attend =
        DomainProto.RecordAttendance.newBuilder()
            .setMeetingId(bs(meeting))
            .setPersonId(bs(sanne))
            .setAttendance(DomainProto.Attendance.ATTENDANCE_PRESENT);
    expectStatus(
        KringException.Status.FAILED_PRECONDITION,
        () -> coordinator.domain(caseId, req().setRecordAttendance(attend).build()),
        "attendance before the meeting has begun");
    coordinator.domain(
        caseId,
        req()
            .setStartPhase(
                DomainProto.StartPhase.newBuilder()
                    .setMeetingId(bs(meeting))
                    .setPhase(DomainProto.Phase.PHASE_INFORMATION))
            .build());
    coordinator.domain(caseId, req().setRecordAttendance(attend).build());
    syncAll(coordinator, resident);
    DomainProto.Meeting recorded =
        resident.domain(caseId, req().setGetMeeting(id(meeting)).build()).getMeeting();
    check(
        recorded.getAttendanceCount() == 1
            && Arrays.equals(recorded.getAttendance(0).getPersonId().toByteArray(), sanne)
            && recorded.getAttendance(0).getAttendance()
                == DomainProto.Attendance.ATTENDANCE_PRESENT
            && recorded.getFinishedAtMs() == 0,
        "Sanne was there, on the resident's device too");

    DomainProto.DomainResponse reminders =
        resident.domain(
            caseId,
            req()
                .setReminderTimes(
                    DomainProto.ReminderTimes.newBuilder()
                        .setStartMs(start)
                        .setNowMs(start - 10 * 86_400_000L))
                .build());
    check(
        reminders.getTimesList()
            .equals(List.of(start - 7 * 86_400_000L, start - 86_400_000L, start - 7_200_000L)),
        "reminders a week, a day and two hours before: " + reminders.getTimesList());
    String note =
        resident
            .domain(
                caseId,
                req()
                    .setNotificationText(
                        DomainProto.NotificationText.newBuilder().setLanguage("nl"))
                    .build())
            .getText();
    check(!note.isEmpty() && !note.contains("Sanne"), "a notification text without content");
  }

  /**
   * A second device of the resident's account (a wrong code refused first), revoked again; then
   * a fresh device restores the account with the recovery key.
   */
  private static void devices(
      KringClient resident, Path tmp, KringClientTest.Kringd server, String recoveryKey)
      throws Exception {
    try (KringClient phone = open(tmp, "phone", 9, server)) {
      DeviceLinkRequest request = phone.requestDeviceLink();
      check(request.payload().startsWith("kring://device-link/1/"), "the link payload");
      String first = request.code().startsWith("0") ? "1" : "0";
      String wrong = first + request.code().substring(1);
      KringException refused =
          expectStatus(
              KringException.Status.PERMISSION_DENIED,
              () -> resident.approveDeviceLink(request.payload(), wrong),
              "a wrong code");
      // Not a domain error: the library's message is there, without a user text.
      check(
          refused != null && refused.getMessage().length() > "PERMISSION_DENIED: ".length(),
          "the library's message reaches Java");
      check(refused != null && refused.domainKey().isEmpty(), "no domain key");
      String approval = resident.approveDeviceLink(request.payload(), request.code());
      Account linked = phone.finishDeviceLink(approval);
      check(
          Arrays.equals(linked.accountId(), resident.account().accountId()), "the same account");
      check(linked.safetyNumber().equals(resident.account().safetyNumber()), "same safety number");
      List<DevicesProto.Device> list = resident.devices();
      check(list.size() == 2, "two devices");
      check(list.stream().filter(DevicesProto.Device::getThisDevice).count() == 1, "this device");

      // The phone is lost: revoked from the first device; its next sync is refused.
      byte[] phoneDevice = phone.account().deviceId();
      resident.revokeDevice(phoneDevice);
      boolean listedRevoked = false;
      for (DevicesProto.Device d : resident.devices()) {
        if (Arrays.equals(d.getDeviceId().toByteArray(), phoneDevice)) {
          listedRevoked = d.getRevoked();
        }
      }
      check(listedRevoked, "the phone is listed as revoked");
      expectStatus(KringException.Status.UNAUTHENTICATED, phone::syncNow, "a revoked device");
    }
    // A fresh device takes the account over with the recovery key.
    try (KringClient fresh = open(tmp, "fresh", 10, server)) {
      expectStatus(
          KringException.Status.INVALID_ARGUMENT,
          () -> fresh.restoreAccount("geen herstelsleutel", null),
          "not a recovery key");
      Account restored = fresh.restoreAccount(recoveryKey, resident.account().accountId());
      check(
          Arrays.equals(restored.accountId(), resident.account().accountId()),
          "restored: the same account");
    }
  }
}
