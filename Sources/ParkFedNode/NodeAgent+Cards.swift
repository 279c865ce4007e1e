import Foundation
import ParkFedProtocol

/// One-card operations of a park, through the hub's online authorisation. After the hub has made a load or a
/// captured spend durable, the node agent records the matching signed assertion (`card.loaded`, `card.spent`) in
/// its outbox, so the park's own claim is in the verifiable log too.
extension NodeAgent {
    /// Issues a card at this park (its custodian from then on); a member's card needs the member's current code.
    /// The answer's `card_key` is the card's own key: the card writer stores it in the card (or the holder's app)
    /// and nowhere else.
    public func registerCard(_ cardID: String, kind: RegisterCardRequest.Kind, memberID: String? = nil, memberCode: String? = nil) async throws(NodeError)
        -> CardView
    {
        try await tracked { (hub: HubClient) async throws(NodeError) in
            try await hub.json(
                .POST, "/v1/cards", body: RegisterCardRequest(cardID: cardID, kind: kind, memberID: memberID, memberCode: memberCode),
                as: CardView.self)
        }
    }

    /// Loads a card at this park (under a promotion, or a plain amount) and records `card.loaded`.
    public func loadCard(_ cardID: String, loadID: String, promotion: String? = nil, amountMinor: Int64? = nil) async throws -> LoadView {
        let view = try await tracked { (hub: HubClient) async throws(NodeError) in
            try await hub.json(
                .POST, "/v1/cards/\(cardID)/loads", body: LoadRequest(loadID: loadID, promotion: promotion, amountMinor: amountMinor), as: LoadView.self)
        }
        try await record(
            .cardLoaded(CardLoaded(cardID: cardID, loadID: loadID, principalMinor: view.principalMinor, bonusMinor: view.bonusMinor, promotion: promotion)))
        return view
    }

    /// A spend at this park: hold, then capture (or void if `capture` is false). Records `card.spent` on capture.
    /// `proof` is what the card reader read from the card: its counter and cryptogram over this hold.
    public func spendCard(_ cardID: String, requestID: String, amountMinor: Int64, proof: CardProof, capture: Bool = true) async throws(NodeError)
        -> AuthorisationView
    {
        let hold = try await tracked { (hub: HubClient) async throws(NodeError) in
            try await hub.json(
                .POST, "/v1/cards/\(cardID)/holds", body: HoldRequest(requestID: requestID, amountMinor: amountMinor, cardProof: proof),
                as: AuthorisationView.self)
        }
        let settled = try await tracked { (hub: HubClient) async throws(NodeError) in
            try await hub.json(
                .POST, "/v1/cards/\(cardID)/holds/\(requestID)/\(capture ? "capture" : "void")", body: Optional<String>.none,
                as: AuthorisationView.self)
        }
        if capture, settled.state == "captured" {
            do {
                try await record(
                    .cardSpent(
                        CardSpent(
                            cardID: cardID, requestID: requestID, amountMinor: hold.amountMinor,
                            principalMinor: hold.principalMinor, bonusMinor: hold.bonusMinor)))
            } catch {
                throw NodeError(.invalidConfiguration, "cannot record the spend in the outbox: \(error)")
            }
        }
        return settled
    }

    public func card(_ cardID: String) async throws(NodeError) -> CardView {
        try await tracked { (hub: HubClient) async throws(NodeError) in
            try await hub.json(.GET, "/v1/cards/\(cardID)", body: Optional<String>.none, as: CardView.self)
        }
    }
}
