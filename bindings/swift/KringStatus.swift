// Swift-facing mirror of `kring_status` (bindings/c/include/kring/kring.h). Append-only; every
// code must be listed here (bindings/check_status_codes.sh, run by ctest, fails otherwise).
// Not compiled in this repository (no Swift toolchain); a Swift package includes it with the
// CKring module from module.modulemap.

public enum KringStatus: Int32, Error, CaseIterable {
    case ok = 0
    case invalidArgument = 1
    case notFound = 2
    case alreadyExists = 3
    case permissionDenied = 4
    case unauthenticated = 5
    case failedPrecondition = 6
    case unavailable = 7
    case deadlineExceeded = 8
    case resourceExhausted = 9
    case dataLoss = 10
    case `internal` = 11
    case cancelled = 12
    case aborted = 13
    case securityAlarm = 14

    /// Transient failures may succeed when retried (with backoff); the others will not.
    public var isTransient: Bool {
        switch self {
        case .unavailable, .deadlineExceeded, .resourceExhausted: return true
        default: return false
        }
    }

    /// Codes appended to the C ABI after this file was written map to `.internal`.
    public init(code: Int32) {
        self = KringStatus(rawValue: code) ?? .internal
    }
}
