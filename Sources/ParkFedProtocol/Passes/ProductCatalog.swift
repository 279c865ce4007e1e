import Foundation
import ParkFedDomain

/// `partners/products.json` and `GET /v1/products`: the federation's combo pass products.
public struct ProductCatalog: Codable, Sendable, Hashable {
    public struct Product: Codable, Sendable, Hashable {
        public struct Validity: Codable, Sendable, Hashable {
            public enum Kind: String, Codable, Sendable { case fixed, fromFirstUse = "from_first_use" }
            public var kind: Kind
            public var from: String?
            public var until: String?
            public var days: Int?
            public var activateWithinDays: Int?

            public init(kind: Kind, from: String? = nil, until: String? = nil, days: Int? = nil, activateWithinDays: Int? = nil) {
                self.kind = kind
                self.from = from
                self.until = until
                self.days = days
                self.activateWithinDays = activateWithinDays
            }

            enum CodingKeys: String, CodingKey {
                case kind, from, until, days
                case activateWithinDays = "activate_within_days"
            }
        }

        public struct Member: Codable, Sendable, Hashable {
            public var park: String
            public var entries: Int?
            public var allocationMinor: Int64

            public init(park: String, entries: Int? = nil, allocationMinor: Int64) {
                self.park = park
                self.entries = entries
                self.allocationMinor = allocationMinor
            }

            enum CodingKeys: String, CodingKey {
                case park, entries
                case allocationMinor = "allocation_minor"
            }
        }

        /// A ticket category beside `full`: concession (with the proof document) or group (with its head counts).
        public struct Category: Codable, Sendable, Hashable {
            public var id: String
            public var kind: String
            public var priceMinor: Int64
            /// Each member park's allocation per entry of one head.
            public var allocations: [String: Int64]
            public var proof: String?
            public var minHeads: Int?
            public var maxHeads: Int?

            public init(
                id: String, kind: String, priceMinor: Int64, allocations: [String: Int64], proof: String? = nil,
                minHeads: Int? = nil, maxHeads: Int? = nil
            ) {
                self.id = id
                self.kind = kind
                self.priceMinor = priceMinor
                self.allocations = allocations
                self.proof = proof
                self.minHeads = minHeads
                self.maxHeads = maxHeads
            }

            enum CodingKeys: String, CodingKey {
                case id, kind, allocations, proof
                case priceMinor = "price_minor"
                case minHeads = "min_heads"
                case maxHeads = "max_heads"
            }
        }

        /// An entry window ("09:00"-"11:00", end excluded) with its capacity in heads per day.
        public struct Slot: Codable, Sendable, Hashable {
            public var id: String
            public var start: String
            public var end: String
            public var capacity: Int

            public init(id: String, start: String, end: String, capacity: Int) {
                self.id = id
                self.start = start
                self.end = end
                self.capacity = capacity
            }
        }

        public var id: String
        public var name: String
        public var currency: String
        public var priceMinor: Int64
        public var validity: Validity
        public var members: [Member]
        public var entriesTotal: Int?
        public var transferable: Bool?
        public var resaleCapMinor: Int64?
        public var transferFeeMinor: Int64?
        public var refundRule: String?
        /// `per_entry` (default: each entry earns its allocation) or `by_entries` (membership passes: the price is
        /// split by entries once the pass has ended).
        public var allocationRule: String?
        /// For `by_entries`: the issuer's retained share of the price, in basis points (default 0).
        public var issuerRetainedBps: Int?
        public var categories: [Category]?
        public var timeSlots: [Slot]?
        /// false: sold without real name (no holder is taken, regulators' lookups say so); default true.
        public var realName: Bool?

        public init(
            id: String, name: String, currency: String = "CNY", priceMinor: Int64, validity: Validity, members: [Member],
            entriesTotal: Int? = nil, transferable: Bool? = nil, resaleCapMinor: Int64? = nil, transferFeeMinor: Int64? = nil,
            refundRule: String? = nil, allocationRule: String? = nil, issuerRetainedBps: Int? = nil,
            categories: [Category]? = nil, timeSlots: [Slot]? = nil, realName: Bool? = nil
        ) {
            self.realName = realName
            self.categories = categories
            self.timeSlots = timeSlots
            self.allocationRule = allocationRule
            self.issuerRetainedBps = issuerRetainedBps
            self.id = id
            self.name = name
            self.currency = currency
            self.priceMinor = priceMinor
            self.validity = validity
            self.members = members
            self.entriesTotal = entriesTotal
            self.transferable = transferable
            self.resaleCapMinor = resaleCapMinor
            self.transferFeeMinor = transferFeeMinor
            self.refundRule = refundRule
        }

        enum CodingKeys: String, CodingKey {
            case id, name, currency, validity, members, transferable
            case priceMinor = "price_minor"
            case entriesTotal = "entries_total"
            case resaleCapMinor = "resale_cap_minor"
            case transferFeeMinor = "transfer_fee_minor"
            case refundRule = "refund_rule"
            case allocationRule = "allocation_rule"
            case issuerRetainedBps = "issuer_retained_bps"
            case categories
            case timeSlots = "time_slots"
            case realName = "real_name"
        }

        /// The domain product, with every rule checked (ids, dates, allocations adding up to the price).
        public func domain() throws(WireError) -> ComboProduct {
            do {
                try Check.identifier(id, "id")
                try Check.text(name, "name", max: 200)
                let validity: ComboProduct.Validity
                switch self.validity.kind {
                case .fixed:
                    guard let from = self.validity.from, let until = self.validity.until, self.validity.days == nil else {
                        throw WireError("a fixed validity has from and until")
                    }
                    validity = .fixed(from: try CivilDay(from), until: try CivilDay(until))
                case .fromFirstUse:
                    guard let days = self.validity.days, self.validity.from == nil, self.validity.until == nil else {
                        throw WireError("a from_first_use validity has days (and activate_within_days)")
                    }
                    validity = .fromFirstUse(days: days, activateWithinDays: self.validity.activateWithinDays ?? 90)
                }
                let members = try self.members.map { member throws -> ComboProduct.Member in
                    ComboProduct.Member(park: try ParkID(member.park), entries: member.entries ?? 1, allocationPerEntry: member.allocationMinor)
                }
                let allocation: ComboProduct.AllocationRule
                switch allocationRule ?? "per_entry" {
                case "per_entry":
                    guard issuerRetainedBps == nil else { throw WireError("issuer_retained_bps goes with allocation_rule by_entries") }
                    allocation = .perEntry
                case "by_entries": allocation = .byEntries(issuerRetainedBasisPoints: issuerRetainedBps ?? 0)
                default: throw WireError("allocation_rule is per_entry or by_entries")
                }
                let defaultRefund = allocation == .perEntry ? "unused_allocations" : "unused_pass_only"
                guard let rule = ComboProduct.RefundRule(rawValue: refundRule ?? defaultRefund) else {
                    throw WireError("refund_rule is unused_allocations or unused_pass_only")
                }
                let transfer = ComboProduct.TransferTerms(allowed: transferable ?? false, resaleCapMinor: resaleCapMinor, feeMinor: transferFeeMinor ?? 0)
                let categories = try (self.categories ?? []).map { category throws -> TicketCategory in
                    try Check.text(category.id, "category id", max: 32)
                    guard let kind = TicketCategory.Kind(rawValue: category.kind), kind != .full else {
                        throw WireError("category \(category.id): kind is concession or group")
                    }
                    var allocations: [ParkID: Int64] = [:]
                    for (park, amount) in category.allocations { allocations[try ParkID(park)] = amount }
                    if let proof = category.proof { try Check.text(proof, "category \(category.id) proof", max: 64) }
                    return try TicketCategory(
                        id: category.id, kind: kind, priceMinor: category.priceMinor, allocations: allocations, proof: category.proof,
                        minimumHeads: category.minHeads ?? 1, maximumHeads: category.maxHeads ?? category.minHeads ?? 1)
                }
                let slots = try (timeSlots ?? []).map { slot throws -> TimeSlot in
                    try TimeSlot(id: slot.id, startMinute: try TimeSlot.minute(slot.start), endMinute: try TimeSlot.minute(slot.end), capacity: slot.capacity)
                }
                return try ComboProduct(
                    id: id, name: name, price: Money(minorUnits: priceMinor, currency: try Currency(currency)),
                    members: members, validity: validity, entriesTotal: entriesTotal, transfer: transfer, refundRule: rule,
                    allocation: allocation, categories: categories, slots: slots, realName: realName ?? true)
            } catch let error as WireError {
                throw WireError("product \(id): \(error.message)")
            } catch {
                throw WireError("product \(id): \(error)")
            }
        }

        /// The wire form of a domain product.
        public init(_ product: ComboProduct) {
            let validity: Validity =
                switch product.validity {
                case .fixed(let from, let until): Validity(kind: .fixed, from: from.description, until: until.description)
                case .fromFirstUse(let days, let window): Validity(kind: .fromFirstUse, days: days, activateWithinDays: window)
                }
            let (rule, retained): (String?, Int?) =
                switch product.allocation {
                case .perEntry: (nil, nil)
                case .byEntries(let basisPoints): ("by_entries", basisPoints)
                }
            self.init(
                id: product.id, name: product.name, currency: product.price.currency.code, priceMinor: product.price.minorUnits, validity: validity,
                members: product.members.map { Member(park: $0.park.rawValue, entries: $0.entries, allocationMinor: $0.allocationPerEntry) },
                entriesTotal: product.entriesTotal, transferable: product.transfer.allowed, resaleCapMinor: product.transfer.resaleCapMinor,
                transferFeeMinor: product.transfer.feeMinor, refundRule: product.refundRule.rawValue, allocationRule: rule,
                issuerRetainedBps: retained,
                categories: product.categories.isEmpty
                    ? nil
                    : product.categories.map {
                        Category(
                            id: $0.id, kind: $0.kind.rawValue, priceMinor: $0.priceMinor,
                            allocations: Dictionary(uniqueKeysWithValues: $0.allocations.map { ($0.key.rawValue, $0.value) }), proof: $0.proof,
                            minHeads: $0.kind == .group ? $0.minimumHeads : nil, maxHeads: $0.kind == .group ? $0.maximumHeads : nil)
                    },
                timeSlots: product.slots.isEmpty
                    ? nil
                    : product.slots.map {
                        Slot(id: $0.id, start: TimeSlot.clock($0.startMinute), end: TimeSlot.clock($0.endMinute), capacity: $0.capacity)
                    }, realName: product.realName ? nil : false)
        }
    }

    public var products: [Product]

    public init(products: [Product]) { self.products = products }

    /// Decodes and checks a catalogue: strict JSON, every product valid, no id twice.
    public static func load(_ data: Data) throws(WireError) -> [ComboProduct] {
        let catalog = try StrictJSON.decode(ProductCatalog.self, from: data)
        var seen = Set<String>()
        var products: [ComboProduct] = []
        for product in catalog.products {
            guard seen.insert(product.id).inserted else { throw WireError("product \(product.id) is listed twice") }
            products.append(try product.domain())
        }
        return products
    }
}
