package nl.kring;

/**
 * A failed libkring call. {@link #status()} says which kind of failure; the message never
 * contains plaintext, keys, names or contact details.
 */
public final class KringException extends Exception {
  private static final long serialVersionUID = 1L;

  /**
   * Mirrors {@code kring_status} in kring.h, number for number: the one place where C codes
   * become Java values. Append-only; bindings/check_status_codes.sh fails on a missing code.
   */
  public enum Status {
    OK(0),
    INVALID_ARGUMENT(1),
    NOT_FOUND(2),
    ALREADY_EXISTS(3),
    PERMISSION_DENIED(4),
    UNAUTHENTICATED(5),
    FAILED_PRECONDITION(6),
    UNAVAILABLE(7),
    DEADLINE_EXCEEDED(8),
    RESOURCE_EXHAUSTED(9),
    DATA_LOSS(10),
    INTERNAL(11),
    CANCELLED(12),
    ABORTED(13),
    SECURITY_ALARM(14);

    private final int code;

    Status(int code) {
      this.code = code;
    }

    /** The kring_status number. */
    public int code() {
      return code;
    }

    /** Transient failures may succeed when retried with backoff; the others will not. */
    public boolean isTransient() {
      return this == UNAVAILABLE || this == DEADLINE_EXCEEDED || this == RESOURCE_EXHAUSTED;
    }

    /** The status for a kring_status number; a code newer than this binding maps to INTERNAL. */
    public static Status fromCode(int code) {
      for (Status s : values()) {
        if (s.code == code) {
          return s;
        }
      }
      return INTERNAL;
    }
  }

  private final Status status;
  private final String libraryMessage;
  private final String serverReason;
  private final String textNl;
  private final String textEn;

  KringException(int code, String message) {
    this(code, message, "", "", "");
  }

  /**
   * Called from JNI with the kring_status number, the library's message, the server's refusal
   * reason (kring_error_reason) and, for a domain error or a known refusal
   * (kring_error_user_text), its Dutch and English text ("" otherwise).
   */
  KringException(int code, String message, String serverReason, String textNl, String textEn) {
    super(Status.fromCode(code).name() + ": " + message);
    this.status = Status.fromCode(code);
    this.libraryMessage = message;
    this.serverReason = serverReason;
    this.textNl = textNl;
    this.textEn = textEn;
  }

  public Status status() {
    return status;
  }

  /**
   * The domain key of a refused domain call (e.g. "referral.no_consent"), for the app's logic;
   * "" when this is not a domain error.
   */
  public String domainKey() {
    return textNl.isEmpty() || !serverReason.isEmpty() ? "" : libraryMessage;
  }

  /**
   * Why the server refused, a stable key such as "INVITE_USED" or "NOT_A_MEMBER" for the app's
   * logic (a control change this library refuses before queuing it carries the server's key for
   * the same rule); "" when the server did not refuse (or gave no reason).
   */
  public String serverReason() {
    return serverReason;
  }

  /**
   * The text to show the person for a domain error or a refusal of the server: Dutch (B1) for
   * "nl", English for "en"; "" when there is none (show a generic text then).
   */
  public String userText(String language) {
    return UserText.in(language, textNl, textEn);
  }
}
