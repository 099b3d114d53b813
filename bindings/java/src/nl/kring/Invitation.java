package nl.kring;

/**
 * An invitation to share out of band, as {@link KringClient#createInvite} returns it: the link
 * (for SMS or e-mail) and the text for a QR code. Both hold the invite secret: whoever has them
 * can accept once, so do not log or store them. {@link #toString()} leaves them out.
 */
public final class Invitation {
  private final byte[] inviteId;
  private final String link;
  private final String qrText;

  Invitation(byte[] inviteId, String link, String qrText) {
    this.inviteId = inviteId;
    this.link = link;
    this.qrText = qrText;
  }

  /** 16 bytes: for {@link KringClient#revokeInvite} and to find it in CaseState.invites. */
  public byte[] inviteId() {
    return inviteId.clone();
  }

  /** The link to send, e.g. "kring://invite/1/..."; secret. */
  public String link() {
    return link;
  }

  /** The text to show as a QR code (today the same as the link; do not rely on it); secret. */
  public String qrText() {
    return qrText;
  }

  @Override
  public String toString() {
    return "Invitation{" + KringClient.hex(inviteId) + "}";
  }
}
