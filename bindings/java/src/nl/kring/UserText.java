package nl.kring;

/** A text to show the person, in the two languages the library writes. */
final class UserText {
  private UserText() {}

  /** Dutch (B1) for "nl", English for "en", "" for any other language. */
  static String in(String language, String textNl, String textEn) {
    if ("nl".equals(language)) {
      return textNl;
    }
    if ("en".equals(language)) {
      return textEn;
    }
    return "";
  }
}
