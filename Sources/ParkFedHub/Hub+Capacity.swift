import AsyncHTTPClient
import Foundation
import NIOCore
import ParkFedCrypto
import ParkFedDomain
import ParkFedProtocol
import ParkFedStore

/// Early warning and stop-sale (《景区最大承载量核定导则》): after every appended sale, refund, entry and exit the hub
/// re-reads the touched parks' figures (places of the day, people inside now) against their capacities with the one
/// rule (``CapacityWatch``); each change of level is a signed hub statement (``CapacityStatement``) in the log, with
/// a push queued to every regulator's endpoint in the same transaction. A full daily capacity stops that day's sales
/// on every channel: the deciding sale path refuses `sold_out` (``DailyLimit``), resellers' holds and availability
/// see no places, node agents refuse offline sales of the day; refunds that free places bring the level down again.
extension Hub {
    /// The rule in force (the configuration's warning share).
    public var capacityWatch: CapacityWatch {
        (try? CapacityWatch(warnBasisPoints: configuration.capacityWarningBasisPoints)) ?? .standard
    }

    /// What an appended assertion touches: parks and days whose levels may have moved.
    func capacityTouched(by candidates: [LogCandidate]) -> Set<String> {
        var touched: Set<String> = []
        for candidate in candidates {
            switch candidate.effect {
            case .issued(let facts, let product, _, _, _, _)?:
                for member in product.members { touched.insert("\(member.park) \(facts.validFrom)") }
            case .entry(let park, _, let day, _, _, _, _, _)?:
                touched.insert("\(park) \(day)")
            case .exits(let park, let day, _, _)?:
                touched.insert("\(park) \(day)")
            case .refund(_, _, _, let product, let validFrom)?:
                for member in product.members { touched.insert("\(member.park) \(validFrom)") }
            default:
                break
            }
        }
        return touched
    }

    /// Re-evaluates the levels of `touched` (`"<park> <day>"`) and logs every change. Never throws: a failure is
    /// logged and the next event evaluates again.
    public func watchCapacity(_ touched: Set<String>, now: Date = Date()) async {
        guard !touched.isEmpty else { return }
        do {
            let parkDays = touched.sorted().compactMap { key -> (park: ParkID, day: CivilDay)? in
                let parts = key.split(separator: " ").map(String.init)
                guard parts.count == 2, let park = try? ParkID(parts[0]), let day = try? CivilDay(parts[1]) else { return nil }
                return (park, day)
            }
            let passes = self.passes
            let found = try await store.capacityFigures(
                parkDays, products: { passes.products(entering: $0) }, today: passes.calendar.day(of: now), now: now)
            for item in found {
                let (park, day, stored) = (item.park, item.day, item.levels)
                var figures: [(CapacityMeasure, used: Int, capacity: Int)] = []
                if let daily = item.daily { figures.append((.daily, daily.used, daily.capacity)) }
                if let inside = item.instantaneous { figures.append((.instantaneous, inside.inside, inside.capacity)) }
                for (measure, used, capacity) in figures {
                    let previous = stored.first { $0.measure == measure }?.level ?? .normal
                    let level = capacityWatch.level(used: used, capacity: capacity)
                    guard level != previous else { continue }
                    let statement = CapacityStatement(
                        id: UUIDv7.make(now: now), issuedAt: now, park: park.rawValue, day: day.description, measure: measure, level: level,
                        previous: previous, used: used, capacity: capacity, warnBasisPoints: capacityWatch.warnBasisPoints)
                    if try await log.record(statement, now: now) != nil {
                        metrics.capacityLevel(park: park.rawValue, measure: measure.rawValue, level: level)
                        logger.notice(
                            "capacity level changed",
                            metadata: [
                                "park": "\(park)", "day": "\(day)", "measure": "\(measure.rawValue)", "level": "\(level.rawValue)", "used": "\(used)",
                                "capacity": "\(capacity)",
                            ])
                    }
                }
            }
        } catch {
            logger.warning("capacity watch failed", metadata: ["error": "\(error)"])
        }
    }

    /// A park's places of `day` used (sold for it, or entered, whichever is more), against any capacity.
    public func dailyPlacesUsed(_ park: ParkID, day: CivilDay, now: Date = Date()) async throws -> Int {
        let limit = DailyLimit(park: park, capacity: Int.max, products: passes.products(entering: park))
        return try await store.dailyUsed([limit], day: day, now: now)[park] ?? 0
    }

    /// Levels above normal from today on, every park's (a node refuses offline sales of a combo covering a park
    /// whose day is full); for parks, clearing staff, regulators and the operator.
    public func capacityStatus(now: Date = Date()) async throws -> CapacityStatus {
        let today = passes.calendar.day(of: now)
        let levels = try await store.capacityLevels(from: today).filter { $0.level != .normal }.map {
            CapacityStatus.Level(
                park: $0.park, day: $0.day.description, measure: $0.measure, level: $0.level, used: $0.used, capacity: $0.capacity,
                logIndex: $0.logIndex)
        }
        return CapacityStatus(levels: levels, warnBasisPoints: capacityWatch.warnBasisPoints)
    }

    // MARK: Regulators' push endpoints

    /// A regulator registers (or with nil removes) the HTTPS endpoint its capacity statements are pushed to.
    public func setRegulatorEndpoint(_ url: String?, peer: AuthenticatedPeer, now: Date = Date()) async throws {
        guard case .regulator(let id) = peer.principal else {
            throw Refusal(.forbidden, code: "forbidden_for_principal", title: "Only a regulator registers its endpoint")
        }
        try await setRegulatorEndpoint(regulator: id, url: url, now: now)
    }

    /// Registers a regulator's endpoint (the operator's command, or the regulator's own request).
    public func setRegulatorEndpoint(regulator id: String, url: String?, now: Date = Date()) async throws {
        if let url { try Self.checkPushURL(url) }
        try await store.setRegulatorEndpoint(id, url: url, now: now)
        logger.info("regulator endpoint set", metadata: ["regulator": "\(id)", "url": "\(url ?? "none")"])
    }

    /// An endpoint is an absolute https URL (plain http only to 127.0.0.1, for a receiver on the same machine).
    static func checkPushURL(_ text: String) throws {
        guard text.count <= 500, let url = URL(string: text), let scheme = url.scheme, let host = url.host, !host.isEmpty else {
            throw Refusal(.invalid, code: "invalid_url", title: "Invalid endpoint", detail: "an endpoint is an absolute URL of at most 500 characters")
        }
        guard scheme == "https" || (scheme == "http" && host == "127.0.0.1") else {
            throw Refusal(.invalid, code: "invalid_url", title: "Invalid endpoint", detail: "an endpoint is https (plain http only to 127.0.0.1)")
        }
    }

    /// Sends every push due now, once each; returns how many were delivered. The body is the statement's compact
    /// JWS (`application/jose`), which the regulator verifies with the hub's key; failures back off (30 s doubling,
    /// at most 6 h apart) until the endpoint answers 2xx.
    @discardableResult
    public func deliverRegulatorPushes(client: HTTPClient = .shared, now: Date = Date()) async throws -> Int {
        var delivered = 0
        for push in try await store.dueRegulatorPushes(now: now) {
            var status: Int?, failure: String?
            do {
                var request = HTTPClientRequest(url: push.url)
                request.method = .POST
                request.headers.add(name: "content-type", value: "application/jose")
                request.headers.add(name: "parkfed-statement-id", value: push.statementID)
                request.body = .bytes(ByteBuffer(string: push.body))
                let response = try await client.execute(request, timeout: .seconds(10))
                _ = try? await response.body.collect(upTo: 64 * 1024)
                status = Int(response.status.code)
                if !(200..<300).contains(status!) { failure = "HTTP \(status!)" }
            } catch {
                failure = String("\(error)".prefix(300))
            }
            let ok = failure == nil
            let backoff = Self.deliveryBackoff(afterAttempts: push.attempts)
            try await store.recordRegulatorPush(
                push.id, status: status, error: failure, delivered: ok, nextAttemptAt: now.addingTimeInterval(backoff), now: now)
            metrics.regulatorPush(ok ? "delivered" : "failed")
            if ok { delivered += 1 }
        }
        return delivered
    }
}

extension AssertionLog {
    /// Appends a capacity statement with its level change (compare-and-set) in one transaction; nil when another
    /// task logged the same change first.
    func record(_ statement: CapacityStatement, now: Date) async throws -> UInt64? {
        let jws = try statement.signed(with: signingKey)
        let change = CapacityLevelChange(
            park: statement.park, day: try CivilDay(statement.day), measure: statement.measure, from: statement.previous, to: statement.level,
            used: statement.used, capacity: statement.capacity, jws: jws)
        let candidate = LogCandidate(
            id: statement.id, park: RegulatorQueryStatement.logParty, type: CapacityStatement.type, kid: signingKey.kid, issuedAt: statement.issuedAt,
            jws: jws, leafHash: MerkleHash.leaf(Data(jws.utf8)), effect: .capacityLevel(change))
        let (outcomes, _, _) = try await append([candidate], now: now)
        if case .appended(let index) = outcomes[0] { return index }
        return nil
    }
}
