/// Four eyes: the clearing person who ran (or re-ran) a batch cannot release it; a second one must. The hub's own
/// scheduled batcher is not a person, so any clearing person may release what it ran.
public enum FourEyes {
    /// Nil when `approver` may approve a batch run by `runners`; otherwise why not.
    public static func refusal(approver: Principal, runners: Set<String>) -> Refusal? {
        guard approver.role == .clearing else {
            return Refusal(.forbidden, code: "forbidden_for_principal", title: "Only a clearing person approves a batch")
        }
        guard !runners.contains(approver.description) else {
            return Refusal(
                .conflict, code: "four_eyes", title: "A second clearing person must approve",
                detail: "\(approver) ran this batch; another clearing person releases it")
        }
        return nil
    }
}
