package nl.kring;

/** What one sync did. */
public final class SyncStats {
  private final long pulled;
  private final long pushed;

  SyncStats(long pulled, long pushed) {
    this.pulled = pulled;
    this.pushed = pushed;
  }

  /** Ops pulled and verified. */
  public long pulled() {
    return pulled;
  }

  /** Local edits pushed. */
  public long pushed() {
    return pushed;
  }
}
