/// Who may do what with a one-card that is not a spend: the one ownership rule of cards, for every route.
///
/// A card's custodian is the park that registered (issued) it, the holder's park. Loading value onto a card makes a
/// park a creditor of it, not its custodian: it may read the card's balance, never block it or move its value.
public enum CardCustody {
    /// The facts of a card the rule needs.
    public struct Card: Hashable, Sendable {
        public var id: String
        public var registeredBy: ParkID
        public var memberID: String?
        /// The parks whose loads are on the card.
        public var loadedBy: Set<ParkID>

        public init(id: String, registeredBy: ParkID, memberID: String?, loadedBy: Set<ParkID>) {
            self.id = id
            self.registeredBy = registeredBy
            self.memberID = memberID
            self.loadedBy = loadedBy
        }
    }

    /// Verified evidence that the holder is present: the card's own cryptogram, or the current code of a member.
    public enum Presence: Hashable, Sendable {
        case card
        case member(String)
    }

    /// Balances and statements: the custodian and the parks that loaded the card.
    public static func read(_ card: Card, by park: ParkID) -> Result<Void, DomainError> {
        guard card.registeredBy == park || card.loadedBy.contains(park) else {
            return .failure(DomainError(.invalidState, "card \(card.id)'s balances are for the park that registered it and the parks that loaded it"))
        }
        return .success(())
    }

    /// Blocking a lost card: its custodian only.
    public static func block(_ card: Card, by park: ParkID) -> Result<Void, DomainError> {
        guard card.registeredBy == park else {
            return .failure(DomainError(.invalidState, "card \(card.id) is blocked only by \(card.registeredBy), the park that registered it"))
        }
        return .success(())
    }

    /// Moving a card's whole balance to `replacement`: by the custodian of both, to a card of the same holder, with
    /// the holder present (the old card's cryptogram for a damaged card, or the code of the member both belong to).
    public static func move(_ card: Card, to replacement: Card, by park: ParkID, presence: Presence?) -> Result<Void, DomainError> {
        if case .failure(let error) = block(card, by: park) { return .failure(error) }
        guard replacement.registeredBy == park, replacement.id != card.id else {
            return .failure(DomainError(.invalidState, "the balance moves only to another card \(park) registered"))
        }
        guard replacement.memberID == card.memberID else {
            return .failure(DomainError(.invalidState, "card \(replacement.id) belongs to another holder than card \(card.id)"))
        }
        switch presence {
        case .card?:
            return .success(())
        case .member(let member)?:
            guard card.memberID == member else {
                return .failure(DomainError(.cardNotPresent, "the member code shown is not the code of the member card \(card.id) belongs to"))
            }
            return .success(())
        case nil:
            return .failure(DomainError(.cardNotPresent, "moving a balance needs the holder present: the card's cryptogram or the member's code"))
        }
    }
}
