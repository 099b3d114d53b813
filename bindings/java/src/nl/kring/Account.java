package nl.kring;

/** This device's account, as {@link KringClient#account()} returns it. */
public final class Account {
  private final byte[] accountId;
  private final byte[] deviceId;
  private final String safetyNumber;
  private final String recoveryKey;

  Account(byte[] accountId, byte[] deviceId, String safetyNumber, String recoveryKey) {
    this.accountId = accountId;
    this.deviceId = deviceId;
    this.safetyNumber = safetyNumber;
    this.recoveryKey = recoveryKey;
  }

  /** 16 bytes. */
  public byte[] accountId() {
    return accountId.clone();
  }

  /** 16 bytes; empty in the result of {@link KringClient#createAccount()}. */
  public byte[] deviceId() {
    return deviceId.clone();
  }

  /** Digits compared in person (or by QR) to verify someone. */
  public String safetyNumber() {
    return safetyNumber;
  }

  /**
   * The recovery key as words: only in the result of {@link KringClient#createAccount()}, to be
   * shown once and never stored; null otherwise.
   */
  public String recoveryKey() {
    return recoveryKey;
  }
}
