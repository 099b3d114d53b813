package nl.kring;

import com.google.protobuf.InvalidProtocolBufferException;
import java.util.List;
import nl.kring.abi.SyncProto;

/** What one sync did. */
public final class SyncStats {
  private final long pulled;
  private final long pushed;
  private final List<SyncProto.CaseConflicts> newConflicts;
  private final List<SyncProto.RefusedChange> refused;

  private SyncStats(SyncProto.SyncReport report) {
    this.pulled = report.getPulled();
    this.pushed = report.getPushed();
    this.newConflicts = report.getNewConflictsList();
    this.refused = report.getRefusedList();
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
   * counted only by the sync that brought it. {@code getOwnDevices()}: how many of them this
   * account wrote both values of itself, on two of its devices.
   */
  public List<SyncProto.CaseConflicts> newConflicts() {
    return newConflicts;
  }

  /**
   * This device's own changes that reached a case's log but that a rule of the case refused, so
   * they had no effect (or part of them none), in log order: e.g. a plan release queued offline
   * after another network member's release came first. Each names its case, its place in the
   * log and why (a text key, with its Dutch and English text), never what it was. Told once, by
   * the sync that pulled them back.
   */
  public List<SyncProto.RefusedChange> refused() {
    return refused;
  }
}
