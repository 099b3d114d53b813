package nl.kring;

import java.util.Arrays;

/** What changed: mirrors kring_change_kind and the listener's arguments in kring.h. */
public final class ChangeEvent {
  /** Mirrors kring_change_kind (append-only). */
  public enum Kind {
    CASE_CHANGED,
    ALARM,
    INTENT_REJECTED,
    /** This account was removed from the case: it stops syncing; CaseState.removed is set. */
    REMOVED_FROM_CASE,
    /** The case was erased or its retention ended: this device's copy is gone. */
    CASE_DELETED,
    /** A kind this binding does not know (a newer libkring); ignore it. */
    UNKNOWN;

    static Kind fromCode(int code) {
      switch (code) {
        case 0:
          return CASE_CHANGED;
        case 1:
          return ALARM;
        case 2:
          return INTENT_REJECTED;
        case 3:
          return REMOVED_FROM_CASE;
        case 4:
          return CASE_DELETED;
        default:
          return UNKNOWN;
      }
    }
  }

  private final Kind kind;
  private final byte[] caseId;
  private final String detail;
  private final String serverReason;
  private final String textNl;
  private final String textEn;
  private final long count;

  ChangeEvent(
      Kind kind,
      byte[] caseId,
      String detail,
      String serverReason,
      String textNl,
      String textEn,
      long count) {
    this.kind = kind;
    this.caseId = caseId;
    this.detail = detail;
    this.serverReason = serverReason;
    this.textNl = textNl;
    this.textEn = textEn;
    this.count = count;
  }

  public Kind kind() {
    return kind;
  }

  /** The 16-byte case id (empty when the event is not about one case). */
  public byte[] caseId() {
    return caseId.clone();
  }

  /** A short description without content. */
  public String detail() {
    return detail;
  }

  /**
   * For an edit the server rejected (INTENT_REJECTED): its reason key, such as "INVITE_USED",
   * for the app's logic; for a queued control change this library refused when sealing it, the
   * key the server gives for the same rule; "" otherwise.
   */
  public String serverReason() {
    return serverReason;
  }

  /**
   * For a rejected edit whose reason this library knows: the text to show the person, Dutch (B1)
   * for "nl", English for "en"; "" otherwise.
   */
  public String userText(String language) {
    return UserText.in(language, textNl, textEn);
  }

  /**
   * For INTENT_REJECTED: how many queued changes this one event rejects (at least 1). A closed
   * case (serverReason "CASE_CLOSED") rejects every change queued for it but the erasure at once,
   * in one event (the device's own rekeys and complaints are rejected too but not counted); edits
   * to a restricted scope this account was taken out of come as one event too (serverReason
   * "NOT_IN_SCOPE", or "SCOPE_UNKNOWN" when the case no longer has the scope), and so do the
   * changes queued by an account removed from the case ("NOT_A_MEMBER"). Show one message
   * with this number. 0 for the other kinds.
   */
  public long count() {
    return count;
  }

  @Override
  public String toString() {
    return "ChangeEvent{"
        + kind
        + ", case="
        + KringClient.hex(caseId)
        + ", "
        + detail
        + (serverReason.isEmpty() ? "" : ", reason=" + serverReason)
        + (count > 1 ? ", count=" + count : "")
        + "}";
  }

  boolean isAbout(byte[] id) {
    return Arrays.equals(caseId, id);
  }
}
