package nl.kring;

/**
 * The new device's side of linking (see {@link KringClient#requestDeviceLink()}): the payload to
 * show as a QR code (public keys only) and the code to show next to it, "1234 5678".
 */
public final class DeviceLinkRequest {
  private final String payload;
  private final String code;

  DeviceLinkRequest(String payload, String code) {
    this.payload = payload;
    this.code = code;
  }

  public String payload() {
    return payload;
  }

  public String code() {
    return code;
  }
}
