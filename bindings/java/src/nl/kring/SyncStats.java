package nl.kring;

import com.google.protobuf.InvalidProtocolBufferException;
import java.util.List;
import nl.kring.abi.SyncProto;

/** What one sync did. */
public final class SyncStats {
  private final long pulled;
  private final long pushed;
  private final List<SyncProto.CaseConflicts> newConflicts;

  private SyncStats(SyncProto.SyncReport report) {
    this.pulled = report.getPulled();
    this.pushed = report.getPushed();
    this.newConflicts = report.getNewConflictsList();
  }

  // From kring_client_sync_now_report's or _sync_case_report's bytes (kring.abi.v1.SyncReport).
  static SyncStats of(byte[] report) throws KringException {
    try {
      return new SyncStats(SyncProto.SyncReport.parseFrom(report));
    } catch (InvalidProtocolBufferException e) {
      throw new KringException(KringException.Status.INTERNAL.code(), "unreadable sync report");
    }
  }

  /** Ops pulled and verified. */
  public long pulled() {
    return pulled;
  }

  /** Local edits pushed. */
  public long pushed() {
    return pushed;
  }

  /**
   * Per case: the conflicts (two edits of one field at once) this sync's pulled log made that are
   * still open, to point the user at them. A case without a new one is not listed; a conflict is
   * counted only by the sync that brought it.
   */
  public List<SyncProto.CaseConflicts> newConflicts() {
    return newConflicts;
  }
}
