/// Where a user stands in the two-station procedure. The states follow one another in this order; `reverted` is
/// the undo branch (held mail released back to the source), which ends in `closed` too.
public enum PlanState: String, Codable, Sendable, CaseIterable {
    /// In the plan; nothing done yet.
    case planned
    /// The operator has recorded that the target account exists and may be used.
    case prepared
    /// The buffer holds the user's new mail (the source forwards it there: recorded with `plan forwarding`).
    case held
    /// The final archive (made while held) is written and its hash recorded.
    case exported
    /// The archive has left station A.
    case carried
    /// Station B imported the archive (its receipt came back), but the reconcile failed.
    case imported
    /// Station B's signed receipt says the target holds what the archive holds.
    case reconciled
    /// The held mail was delivered to the target.
    case released
    /// Lingering ended; the operator cleans the source up.
    case closed
    /// Undo: the held mail went back to the source.
    case reverted

    /// The states a user may move to from this one.
    public var next: Set<PlanState> {
        switch self {
        case .planned: [.prepared, .held]
        case .prepared: [.held]
        case .held: [.exported, .reverted]
        // Another final pass (a last delta) may follow while the user is still held.
        case .exported: [.exported, .carried, .imported, .reconciled, .reverted]
        case .carried: [.exported, .imported, .reconciled, .reverted]
        case .imported: [.exported, .imported, .reconciled, .reverted]
        case .reconciled: [.released, .reverted]
        case .released: [.closed]
        case .reverted: [.closed]
        case .closed: []
        }
    }

    /// Whether the buffer holds (or may still hold) the user's mail in this state.
    public var isHeld: Bool { [.held, .exported, .carried, .imported, .reconciled].contains(self) }
}
