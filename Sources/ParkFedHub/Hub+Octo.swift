import Crypto
import Foundation
import ParkFedCrypto
import ParkFedDomain
import ParkFedProtocol
import ParkFedStore

/// The OCTO supplier API (OCTO 1.0) at the hub, for resellers: the federation's combo products as OCTO products
/// (one `DEFAULT` option; ticket categories a single head buys as units; time slots as start times, untimed products
/// as opening hours), availability from the slots' capacity less what is sold and held, bookings held until they
/// expire, confirmed into passes the reseller's issuing key signs, cancelled by the product's refund rule.
///
/// Every answer is decided before anything is written; a refusal is an OCTO error body (``Octo/ErrorBody``) and
/// changes nothing. A reseller sees and changes only its own bookings: another reseller's uuid is unknown to it.
extension Hub {
    /// Who is calling and how: the reseller, whether it asked for `octo/pricing`, and the hub's address as the
    /// caller reached it (for the visitor pages' links).
    public struct OctoCaller: Sendable {
        public var reseller: ParkID
        public var pricing: Bool
        public var baseURL: String
        public init(reseller: ParkID, pricing: Bool, baseURL: String) {
            self.reseller = reseller
            self.pricing = pricing
            self.baseURL = baseURL
        }
    }

    static let octoHoldDefaultMinutes = 30
    static let octoHoldMaximumMinutes = 1440
    static let octoMaximumUnits = 100

    // MARK: Supplier and products

    public func octoSupplier(_ caller: OctoCaller) -> Octo.Supplier {
        Octo.Supplier(
            id: configuration.federation.lowercased().replacingOccurrences(of: " ", with: "-"), name: configuration.federation,
            endpoint: caller.baseURL + "/octo", contact: .init(website: nil, email: nil, telephone: nil, address: nil))
    }

    func octoAdmitted(_ caller: OctoCaller) async throws -> AdmittedReseller {
        guard let admitted = try await admittedReseller(caller.reseller), admitted.record.status == .active else {
            throw Octo.ErrorBody("FORBIDDEN", "reseller \(caller.reseller) is not admitted", status: 403)
        }
        return admitted
    }

    public func octoProducts(_ caller: OctoCaller) async throws -> [Octo.Product] {
        let admitted = try await octoAdmitted(caller)
        return admitted.products.sorted().compactMap { id in passes.product(id).map { octoProduct($0, admitted, caller) } }
    }

    public func octoProduct(_ id: String, _ caller: OctoCaller) async throws -> Octo.Product {
        let admitted = try await octoAdmitted(caller)
        return octoProduct(try octoSellable(id, admitted), admitted, caller)
    }

    /// A product this reseller may sell, or `INVALID_PRODUCT_ID`.
    func octoSellable(_ id: String, _ admitted: AdmittedReseller) throws -> ComboProduct {
        guard admitted.products.contains(id), let product = passes.product(id) else { throw Octo.ErrorBody.invalidProduct(id) }
        return product
    }

    func octoProduct(_ product: ComboProduct, _ admitted: AdmittedReseller, _ caller: OctoCaller) -> Octo.Product {
        let units = octoUnits(product, admitted).map { category, rate -> Octo.Unit in
            // A group category is a unit whose items in one booking make one pass for that many heads.
            let group = product.categories.first { $0.id == category && $0.minimumHeads > 1 }
            return Octo.Unit(
                id: category, internalName: category == TicketCategory.fullID ? "Full" : category.capitalized, reference: nil,
                type: group == nil ? Self.octoUnitType(category) : "OTHER", requiredContactFields: ["firstName", "lastName"],
                restrictions: .init(
                    minAge: 0, maxAge: 100, idRequired: true, minQuantity: group?.minimumHeads,
                    maxQuantity: group.map { min($0.maximumHeads, Self.octoMaximumUnits) } ?? Self.octoMaximumUnits, paxCount: 1),
                pricingFrom: caller.pricing ? [octoPricing(product, category: category, rate: rate)] : nil)
        }
        let option = Octo.Option(
            id: Octo.defaultOption, default: true, internalName: "Default", reference: nil,
            availabilityLocalStartTimes: product.slots.isEmpty ? ["00:00"] : product.slots.map { TimeSlot.clock($0.startMinute) },
            cancellationCutoff: "0 hours", cancellationCutoffAmount: 0, cancellationCutoffUnit: "hour", requiredContactFields: ["firstName", "lastName"],
            restrictions: .init(minUnits: 1, maxUnits: Self.octoMaximumUnits), units: units)
        return Octo.Product(
            id: product.id, internalName: product.name, reference: nil, locale: "zh-CN", timeZone: configuration.timeZone,
            allowFreesale: product.slots.isEmpty, availabilityType: product.slots.isEmpty ? "OPENING_HOURS" : "START_TIME", options: [option])
    }

    /// The units of a product this reseller has rates for: `full` and its categories (a group's rate is per head).
    func octoUnits(_ product: ComboProduct, _ admitted: AdmittedReseller) -> [(String, ResellerRate)] {
        let categories = [TicketCategory.fullID] + product.categories.map(\.id)
        return categories.compactMap { category in admitted.rate(product: product.id, category: category).map { (category, $0) } }
    }

    static func octoUnitType(_ category: String) -> String {
        switch category {
        case TicketCategory.fullID: "ADULT"
        case "child": "CHILD"
        case "student": "STUDENT"
        case "senior": "SENIOR"
        case "youth": "YOUTH"
        case "infant": "INFANT"
        case "family": "FAMILY"
        case "military": "MILITARY"
        default: "OTHER"
        }
    }

    func octoPricing(_ product: ComboProduct, category: String, rate: ResellerRate) -> Octo.Pricing {
        let original = (try? product.variant(category: category, heads: 1).price.minorUnits) ?? rate.retailMinor
        return Octo.Pricing(original: original, retail: rate.retailMinor, net: rate.netMinor, currency: product.price.currency.code)
    }

    // MARK: Availability

    /// One availability of a product on a day: a slot (timed products) or the day (untimed).
    struct OctoSlot {
        var id: String
        var day: CivilDay
        var slot: TimeSlot?
        var start: Date
        var end: Date
    }

    var octoClock: OctoClock { OctoClock(timeZone: passes.calendar.timeZone) }

    func octoSlots(_ product: ComboProduct, on day: CivilDay) -> [OctoSlot] {
        let clock = octoClock
        if product.slots.isEmpty {
            let start = clock.date(day, minute: 0)
            return [OctoSlot(id: clock.local(start), day: day, slot: nil, start: start, end: clock.date(day.adding(days: 1), minute: 0))]
        }
        return product.slots.map { slot in
            let start = clock.date(day, minute: slot.startMinute)
            return OctoSlot(id: clock.local(start), day: day, slot: slot, start: start, end: clock.date(day, minute: slot.endMinute))
        }
    }

    /// The availability an id names (its day's slots are generated and compared exactly), or `INVALID_AVAILABILITY_ID`.
    func octoSlot(_ id: String, _ product: ComboProduct) throws -> OctoSlot {
        guard id.utf8.count <= 40, let day = try? CivilDay(String(id.prefix(10))), let slot = octoSlots(product, on: day).first(where: { $0.id == id })
        else {
            throw Octo.ErrorBody("INVALID_AVAILABILITY_ID", "The availabilityId was missing or invalid", availabilityId: String(id.prefix(64)))
        }
        return slot
    }

    /// Whether a pass of `product` can be sold for `slot` now: its day is within the product's sale window, not
    /// past, and a timed slot has not ended.
    func octoOpen(_ product: ComboProduct, _ slot: OctoSlot, now: Date) -> Bool {
        guard slot.day >= passes.calendar.day(of: now), (try? product.saleWindow(date: slot.day)) != nil else { return false }
        return slot.end > now
    }

    public func octoAvailability(_ request: Octo.AvailabilityRequest, _ caller: OctoCaller, now: Date = Date()) async throws -> [Octo.Availability] {
        let admitted = try await octoAdmitted(caller)
        let product = try octoSellable(request.productId, admitted)
        guard request.optionId == Octo.defaultOption else { throw Octo.ErrorBody.invalidOption(request.optionId) }
        let wanted = try octoUnitCount(request.units, product, admitted)
        let slots: [OctoSlot]
        if let ids = request.availabilityIds {
            guard (1...100).contains(ids.count) else { throw Octo.ErrorBody.badRequest("availabilityIds lists 1-100 ids") }
            slots = try ids.map { try octoSlot($0, product) }
        } else {
            let range = try octoDays(from: request.localDateStart ?? request.localDate, to: request.localDateEnd ?? request.localDate, maximum: 31)
            slots = range.flatMap { octoSlots(product, on: $0) }
        }
        let usage = try await octoUsage(product, slots, now: now)
        let daily = try await octoDailyPlaces(product, days: Set(slots.map(\.day)), now: now)
        let pricing = caller.pricing ? octoUnitsPricing(product, admitted, request.units) : nil
        let clock = octoClock
        return slots.map { slot in
            let open = octoOpen(product, slot, now: now)
            let slotLeft = slot.slot.map { max(0, $0.capacity - (usage["\(slot.day) \($0.id)"] ?? 0)) }
            let vacancies = Self.fewest(slotLeft, daily[slot.day]?.left)
            let capacity = slot.slot?.capacity ?? daily[slot.day]?.capacity
            let status = Self.octoStatus(open: open, vacancies: vacancies, capacity: capacity)
            return Octo.Availability(
                id: slot.id, localDateTimeStart: clock.local(slot.start), localDateTimeEnd: clock.local(slot.end), allDay: slot.slot == nil,
                available: open && (vacancies.map { $0 >= max(1, wanted) } ?? true), status: status, vacancies: vacancies,
                capacity: capacity, maxUnits: vacancies.map { min($0, Self.octoMaximumUnits) } ?? Self.octoMaximumUnits,
                utcCutoffAt: clock.utc(slot.end), openingHours: slot.slot == nil ? [] : [Self.octoHours(slot.slot!)], pricing: pricing)
        }
    }

    public func octoCalendar(_ request: Octo.CalendarRequest, _ caller: OctoCaller, now: Date = Date()) async throws -> [Octo.CalendarDay] {
        let admitted = try await octoAdmitted(caller)
        let product = try octoSellable(request.productId, admitted)
        guard request.optionId == Octo.defaultOption else { throw Octo.ErrorBody.invalidOption(request.optionId) }
        _ = try octoUnitCount(request.units, product, admitted)
        let days = try octoDays(from: request.localDateStart, to: request.localDateEnd, maximum: 366)
        let perDay = days.map { ($0, octoSlots(product, on: $0)) }
        let usage = try await octoUsage(product, perDay.flatMap(\.1), now: now)
        let daily = try await octoDailyPlaces(product, days: Set(days), now: now)
        return perDay.map { day, slots in
            let open = slots.filter { octoOpen(product, $0, now: now) }
            let capacity = product.slots.isEmpty ? daily[day]?.capacity : Optional(product.slots.reduce(0) { $0 + $1.capacity })
            let slotLeft =
                product.slots.isEmpty
                ? nil : Optional(open.reduce(0) { sum, slot in sum + max(0, slot.slot!.capacity - (usage["\(day) \(slot.slot!.id)"] ?? 0)) })
            let vacancies = Self.fewest(slotLeft, daily[day]?.left)
            return Octo.CalendarDay(
                localDate: day.description, available: !open.isEmpty && (vacancies.map { $0 > 0 } ?? true),
                status: Self.octoStatus(open: !open.isEmpty, vacancies: vacancies, capacity: capacity), vacancies: vacancies, capacity: capacity,
                openingHours: product.slots.map(Self.octoHours))
        }
    }

    /// The places of each day left for `product`: the fewest any of its parks with a daily capacity has left (the
    /// same figures the deciding sale path holds every channel to), with that park's capacity.
    func octoDailyPlaces(_ product: ComboProduct, days: Set<CivilDay>, now: Date) async throws -> [CivilDay: (left: Int, capacity: Int)] {
        let limits = await passes.dailyLimits(of: product)
        guard !limits.isEmpty else { return [:] }
        var result: [CivilDay: (left: Int, capacity: Int)] = [:]
        for day in days {
            let used = try await store.dailyUsed(limits, day: day, now: now)
            result[day] = limits.map { (max(0, $0.capacity - (used[$0.park] ?? 0)) / max(1, product.heads), $0.capacity) }.min { $0.0 < $1.0 }
        }
        return result
    }

    static func fewest(_ a: Int?, _ b: Int?) -> Int? {
        switch (a, b) {
        case (let a?, let b?): min(a, b)
        case (let a?, nil): a
        case (nil, let b?): b
        case (nil, nil): nil
        }
    }

    static func octoHours(_ slot: TimeSlot) -> Octo.OpeningHours { .init(from: TimeSlot.clock(slot.startMinute), to: TimeSlot.clock(slot.endMinute)) }

    static func octoStatus(open: Bool, vacancies: Int?, capacity: Int?) -> String {
        guard open else { return "CLOSED" }
        guard let vacancies, let capacity else { return "FREESALE" }
        if vacancies == 0 { return "SOLD_OUT" }
        return vacancies * 10 < capacity ? "LIMITED" : "AVAILABLE"
    }

    /// The days from `from` to `to` (inclusive, at most `maximum`), or `BAD_REQUEST`.
    func octoDays(from: String?, to: String?, maximum: Int) throws -> [CivilDay] {
        guard let from, let to else { throw Octo.ErrorBody.badRequest("either localDate, localDateStart/localDateEnd or availabilityIds is required") }
        guard let start = try? CivilDay(from), let end = try? CivilDay(to) else { throw Octo.ErrorBody.badRequest("dates are YYYY-MM-DD") }
        guard start <= end, end.dayNumber - start.dayNumber < maximum else {
            throw Octo.ErrorBody.badRequest("localDateStart is on or before localDateEnd, at most \(maximum) days")
        }
        return (start.dayNumber...end.dayNumber).map { CivilDay(dayNumber: $0) }
    }

    /// The units asked about, checked: each a unit of the product, quantities 0-50 in all.
    func octoUnitCount(_ units: [Octo.UnitQuantity]?, _ product: ComboProduct, _ admitted: AdmittedReseller) throws -> Int {
        guard let units else { return 0 }
        let known = Set(octoUnits(product, admitted).map(\.0))
        for unit in units where !known.contains(unit.id) {
            throw Octo.ErrorBody("INVALID_UNIT_ID", "The unitId was missing or invalid", unitId: String(unit.id.prefix(64)))
        }
        let total = units.reduce(0) { $0 + $1.quantity }
        guard units.allSatisfy({ $0.quantity >= 0 }), total <= Self.octoMaximumUnits else {
            throw Octo.ErrorBody.badRequest("unit quantities are 0 to \(Self.octoMaximumUnits) in all")
        }
        return total
    }

    func octoUnitsPricing(_ product: ComboProduct, _ admitted: AdmittedReseller, _ units: [Octo.UnitQuantity]?) -> Octo.Pricing {
        let rates = Dictionary(octoUnits(product, admitted), uniquingKeysWith: { first, _ in first })
        let parts = (units ?? []).flatMap { unit in
            rates[unit.id].map { Array(repeating: octoPricing(product, category: unit.id, rate: $0), count: max(0, unit.quantity)) } ?? []
        }
        return Octo.Pricing.total(parts, currency: product.price.currency.code)
    }

    func octoUsage(_ product: ComboProduct, _ slots: [OctoSlot], now: Date) async throws -> [String: Int] {
        guard !product.slots.isEmpty else { return [:] }
        return try await store.slotUsage(
            product: product.id, days: Array(Set(slots.map(\.day))).sorted(), slots: product.slots.map(\.id), now: now)
    }

    // MARK: Bookings

    /// `POST /bookings`: holds the places of the booking's units until it expires. The uuid is the idempotency key:
    /// the same uuid again answers the booking it made.
    public func octoHold(_ request: Octo.BookingRequest, _ caller: OctoCaller, now: Date = Date()) async throws -> Octo.Booking {
        let admitted = try await octoAdmitted(caller)
        let product = try octoSellable(request.productId, admitted)
        guard request.optionId == Octo.defaultOption else { throw Octo.ErrorBody.invalidOption(request.optionId) }
        let uuid = try request.uuid.map { try Self.octoUUID($0) } ?? UUID().uuidString.lowercased()
        if let existing = try await store.booking(uuid) {
            guard existing.reseller == caller.reseller else { throw Octo.ErrorBody.unprocessable("uuid \(uuid) is already in use") }
            return try await octoView(existing, admitted, caller, now: now)
        }
        let slot = try octoSlot(request.availabilityId, product)
        guard octoOpen(product, slot, now: now) else { throw Octo.ErrorBody.unprocessable("availability \(slot.id) is closed for sale") }
        guard (1...Self.octoMaximumUnits).contains(request.unitItems.count) else {
            throw Octo.ErrorBody.unprocessable("a booking has 1 to \(Self.octoMaximumUnits) unit items")
        }
        let minutes = request.expirationMinutes ?? Self.octoHoldDefaultMinutes
        guard (1...Self.octoHoldMaximumMinutes).contains(minutes) else {
            throw Octo.ErrorBody.unprocessable("expirationMinutes is 1 to \(Self.octoHoldMaximumMinutes)")
        }
        let rates = Dictionary(octoUnits(product, admitted), uniquingKeysWith: { first, _ in first })
        var units: [OctoUnitRecord] = []
        var unitUUIDs = Set<String>()
        // The items of a group category make one pass for as many heads, within the group's size.
        var groupPasses: [String: String] = [:]
        for category in product.categories where category.minimumHeads > 1 {
            let heads = request.unitItems.filter { $0.unitId == category.id }.count
            guard heads > 0 else { continue }
            guard (category.minimumHeads...category.maximumHeads).contains(heads) else {
                throw Octo.ErrorBody.unprocessable(
                    "a \(category.id) ticket is for \(category.minimumHeads) to \(category.maximumHeads) people: \(heads) unit items given")
            }
            groupPasses[category.id] = Self.octoPassID()
        }
        for (position, item) in request.unitItems.enumerated() {
            guard let rate = rates[item.unitId] else {
                throw Octo.ErrorBody("INVALID_UNIT_ID", "The unitId was missing or invalid", unitId: String(item.unitId.prefix(64)))
            }
            let unitUUID = try item.uuid.map { try Self.octoUUID($0) } ?? UUID().uuidString.lowercased()
            guard unitUUIDs.insert(unitUUID).inserted else { throw Octo.ErrorBody.unprocessable("unit item uuid \(unitUUID) is listed twice") }
            units.append(
                OctoUnitRecord(
                    uuid: unitUUID, position: position, category: item.unitId, passID: groupPasses[item.unitId] ?? Self.octoPassID(), heads: 1,
                    retailMinor: rate.retailMinor,
                    netMinor: rate.netMinor, resellerReference: try Self.octoReference(item.resellerReference, "unit resellerReference")))
        }
        let booking = OctoBookingRecord(
            uuid: uuid, reseller: caller.reseller, reference: Self.octoSupplierReference(), product: product.id, day: slot.day, slot: slot.slot?.id,
            availabilityID: slot.id, status: "held", expiresAt: now.addingTimeInterval(TimeInterval(minutes * 60)),
            resellerReference: try Self.octoReference(request.resellerReference, "resellerReference"), notes: try Self.octoNotes(request.notes),
            contact: nil, currency: product.price.currency.code, baseURL: caller.baseURL, createdAt: now, units: units)
        switch try await store.holdBooking(booking, slotCapacity: slot.slot?.capacity, dailyLimits: await passes.dailyLimits(of: product), now: now) {
        case .held(let record):
            metrics.octoBooking("held")
            await watchCapacity(Set(product.members.map { "\($0.park) \(slot.day)" }), now: now)
            return try await octoView(record, admitted, caller, now: now)
        case .existing(let record):
            guard record.reseller == caller.reseller else { throw Octo.ErrorBody.unprocessable("uuid \(uuid) is already in use") }
            return try await octoView(record, admitted, caller, now: now)
        case .full(let left):
            metrics.octoBooking("sold_out")
            throw Octo.ErrorBody.unprocessable("availability \(slot.id) has \(left) places left, not \(units.count)")
        }
    }

    /// A booking of this reseller, or `INVALID_BOOKING_UUID` (another reseller's booking is not found either).
    func octoOwned(_ uuid: String, _ caller: OctoCaller) async throws -> OctoBookingRecord {
        guard let valid = try? Self.octoUUID(uuid), let booking = try await store.booking(valid), booking.reseller == caller.reseller else {
            throw Octo.ErrorBody.invalidBooking(String(uuid.prefix(64)))
        }
        return booking
    }

    public func octoBooking(_ uuid: String, _ caller: OctoCaller, now: Date = Date()) async throws -> Octo.Booking {
        let admitted = try await octoAdmitted(caller)
        return try await octoView(try await octoOwned(uuid, caller), admitted, caller, now: now)
    }

    /// `GET /bookings`: this reseller's bookings by its reference, the supplier reference, a date or dates, a product.
    public func octoBookings(_ query: [String: String], _ caller: OctoCaller, now: Date = Date()) async throws -> [Octo.Booking] {
        let admitted = try await octoAdmitted(caller)
        let resellerReference = query["resellerReference"], supplierReference = query["supplierReference"], product = query["productId"]
        var days: ClosedRange<CivilDay>?
        if let date = query["localDate"] {
            guard let day = try? CivilDay(date) else { throw Octo.ErrorBody.badRequest("localDate is YYYY-MM-DD") }
            days = day...day
        } else if query["localDateStart"] != nil || query["localDateEnd"] != nil {
            let range = try octoDays(from: query["localDateStart"], to: query["localDateEnd"], maximum: 366)
            days = range.first!...range.last!
        }
        guard resellerReference != nil || supplierReference != nil || days != nil || product != nil else {
            throw Octo.ErrorBody.badRequest("either resellerReference, supplierReference, localDate or localDateStart/localDateEnd is required")
        }
        if let optionID = query["optionId"], optionID != Octo.defaultOption { return [] }
        var result: [Octo.Booking] = []
        for record in try await store.bookings(
            reseller: caller.reseller, resellerReference: resellerReference, reference: supplierReference, product: product, days: days)
        {
            result.append(try await octoView(record, admitted, caller, now: now))
        }
        return result
    }

    /// `POST /bookings/{uuid}/extend`: a hold not yet expired, for `expirationMinutes` more from now.
    public func octoExtend(_ uuid: String, _ request: Octo.ExtendRequest, _ caller: OctoCaller, now: Date = Date()) async throws -> Octo.Booking {
        let admitted = try await octoAdmitted(caller)
        var booking = try await octoOwned(uuid, caller)
        let minutes = request.expirationMinutes ?? Self.octoHoldDefaultMinutes
        guard (1...Self.octoHoldMaximumMinutes).contains(minutes) else {
            throw Octo.ErrorBody("UNPROCESSABLE_ENTITY", "expirationMinutes is 1 to \(Self.octoHoldMaximumMinutes)", uuid: booking.uuid)
        }
        guard booking.status == "held", !booking.expired(now: now) else {
            throw Octo.ErrorBody("UNPROCESSABLE_ENTITY", "only a booking on hold and not expired can be extended", uuid: booking.uuid)
        }
        booking.expiresAt = now.addingTimeInterval(TimeInterval(minutes * 60))
        guard try await store.updateBooking(booking, expecting: "held", now: now) else {
            throw Octo.ErrorBody("UNPROCESSABLE_ENTITY", "the booking changed meanwhile", uuid: booking.uuid)
        }
        return try await octoView(try await octoOwned(uuid, caller), admitted, caller, now: now)
    }

    /// `PATCH /bookings/{uuid}`: the reseller's reference, notes and contact of a booking not cancelled, and a
    /// hold's expiry. Units, product and availability are not changed in place (cancel and book again).
    public func octoUpdate(_ uuid: String, _ request: Octo.UpdateRequest, _ caller: OctoCaller, now: Date = Date()) async throws -> Octo.Booking {
        let admitted = try await octoAdmitted(caller)
        var booking = try await octoOwned(uuid, caller)
        guard booking.status != "cancelled", !booking.expired(now: now) else {
            throw Octo.ErrorBody("UNPROCESSABLE_ENTITY", "a cancelled or expired booking is not changed", uuid: booking.uuid)
        }
        if request.productId.map({ $0 != booking.product }) ?? false || request.optionId.map({ $0 != Octo.defaultOption }) ?? false
            || request.availabilityId.map({ $0 != booking.availabilityID }) ?? false || request.unitItems != nil
        {
            throw Octo.ErrorBody(
                "UNPROCESSABLE_ENTITY", "product, option, availability and unit items are not changed in place: cancel and book again", uuid: booking.uuid)
        }
        if let reference = request.resellerReference { booking.resellerReference = try Self.octoReference(reference, "resellerReference") }
        if let notes = request.notes { booking.notes = try Self.octoNotes(notes) }
        if let contact = request.contact { booking.contact = try Self.octoShownContact(contact) }
        if let minutes = request.expirationMinutes {
            guard booking.status == "held", (1...Self.octoHoldMaximumMinutes).contains(minutes) else {
                throw Octo.ErrorBody("UNPROCESSABLE_ENTITY", "expirationMinutes (1-\(Self.octoHoldMaximumMinutes)) applies to a hold", uuid: booking.uuid)
            }
            booking.expiresAt = now.addingTimeInterval(TimeInterval(minutes * 60))
        }
        guard try await store.updateBooking(booking, expecting: booking.status, now: now) else {
            throw Octo.ErrorBody("UNPROCESSABLE_ENTITY", "the booking changed meanwhile", uuid: booking.uuid)
        }
        return try await octoView(try await octoOwned(uuid, caller), admitted, caller, now: now)
    }

    /// `POST /bookings/{uuid}/confirm`: issues one pass per unit item, each signed with the reseller's issuing key
    /// and decided by the hub as any sale (its slot places were held for it), with each holder's real name and
    /// document (OCTO's contact with the federation's `identityDocument`). A confirmed booking answers as it is.
    public func octoConfirm(_ uuid: String, _ request: Octo.ConfirmRequest, _ caller: OctoCaller, now: Date = Date()) async throws -> Octo.Booking {
        let admitted = try await octoAdmitted(caller)
        var booking = try await octoOwned(uuid, caller)
        if booking.status == "confirmed" { return try await octoView(booking, admitted, caller, now: now) }
        guard booking.status == "held" else { throw Octo.ErrorBody("UNPROCESSABLE_ENTITY", "the booking is cancelled", uuid: booking.uuid) }
        let soldAlready = try await booking.units.asyncFilter { try await self.store.pass($0.passID)?.issued == true }
        guard !booking.expired(now: now) || !soldAlready.isEmpty else {
            throw Octo.ErrorBody("UNPROCESSABLE_ENTITY", "the hold expired at \(octoClock.utc(booking.expiresAt!)): book again", uuid: booking.uuid)
        }
        guard let base = passes.product(booking.product) else { throw Octo.ErrorBody.invalidProduct(booking.product) }
        // Decided first: every unit's holder, before any pass is signed.
        guard let contact = request.contact else { throw Octo.ErrorBody("UNPROCESSABLE_ENTITY", "contact is required", uuid: booking.uuid) }
        // One pass per distinct pass id (a group's items share theirs), its holder from its first item's contact
        // (the group's leader), or the booking's contact for a booking of one pass.
        let passIDs = booking.units.map(\.passID).reduce(into: [String]()) { if !$0.contains($1) { $0.append($1) } }
        var holders: [String: (name: String, document: IdentityDocument)] = [:]
        for (index, unit) in booking.units.enumerated() {
            let given = request.unitItems?.first { $0.uuid?.lowercased() == unit.uuid } ?? request.unitItems?[safe: index]
            if let given, given.unitId != unit.category {
                throw Octo.ErrorBody(
                    "INVALID_UNIT_ID", "unit item \(index + 1) is a \(unit.category), not \(given.unitId)", unitId: String(given.unitId.prefix(64)))
            }
            guard holders[unit.passID] == nil else { continue }
            let person = given?.contact ?? (passIDs.count == 1 ? contact : nil)
            guard let person, let name = person.name, (1...64).contains(name.count), let input = person.identityDocument,
                let kind = IdentityDocument.Kind(rawValue: input.type), let document = try? IdentityDocument(kind: kind, number: input.number)
            else {
                throw Octo.ErrorBody(
                    "UNPROCESSABLE_ENTITY",
                    "real-name ticket: unit item \(index + 1) needs its holder's contact with fullName (1-64 characters) and a valid identityDocument {type, number}",
                    uuid: booking.uuid)
            }
            holders[unit.passID] = (name, document)
        }
        for (index, unit) in booking.units.enumerated() {
            if let given = request.unitItems?.first(where: { $0.uuid?.lowercased() == unit.uuid }), let reference = given.resellerReference {
                booking.units[index].resellerReference = try Self.octoReference(reference, "unit resellerReference")
            }
        }
        if let reference = request.resellerReference { booking.resellerReference = try Self.octoReference(reference, "resellerReference") }
        let shownContact = try Self.octoShownContact(contact)
        let key = issuingKey(of: caller.reseller)
        let reseller = Self.issuingPeer(caller.reseller)
        for (number, passID) in passIDs.enumerated() {
            let members = booking.units.indices.filter { booking.units[$0].passID == passID }
            let first = booking.units[members[0]]
            let (name, document) = holders[passID]!
            let nameMasked = Masking.name(name)
            let heads = members.count, net = members.reduce(Int64(0)) { $0 + booking.units[$1].netMinor }
            guard let variant = try? base.variant(category: first.category, heads: heads), let window = try? variant.saleWindow(date: booking.day)
            else { throw Octo.ErrorBody.unprocessable("product \(base.id) is no longer on sale for \(booking.day)") }
            // Ed25519 signs deterministically: a confirmation that stopped half way makes the same codes again. A
            // long masked name is shortened until the code fits its QR code (version 15-M).
            var code: PassCode?
            for length in stride(from: 16, through: 2, by: -2) where code == nil {
                code = try? PassCode.make(
                    .init(
                        issuer: caller.reseller, passID: passID, product: base.id, validFrom: window.from, validUntil: window.until, generation: 0,
                        name: String(nameMasked.prefix(length)), category: variant.category?.id, heads: heads, slot: booking.slot, net: net), key: key)
            }
            guard let code else { throw Octo.ErrorBody("UNPROCESSABLE_ENTITY", "pass \(number + 1)'s code does not fit a QR code", uuid: booking.uuid) }
            for member in members {
                booking.units[member].code = code.text
                booking.units[member].holderMasked = nameMasked
            }
            if let sold = try await store.pass(passID), sold.issued {
                try await registerOctoVisitorLink(passID: passID, code: code.text, now: now)
                continue
            }
            let holder = try holderReference(document, name: name, nameMasked: nameMasked, reseller: caller.reseller)
            let issued = PassIssued(
                passID: passID, product: base.id, channel: .ota, priceMinor: net, currency: booking.currency, holder: base.realName ? holder : nil,
                validFrom: window.from.description, validUntil: window.until.description, category: code.payload.category, heads: code.payload.heads,
                slot: booking.slot)
            let (_, jws) = try Assertions.sign(.passIssued(issued), park: caller.reseller, key: key, now: now)
            do {
                _ = try await decide(jws.compact, peer: reseller, expecting: .passIssued, now: now)
            } catch let denied as PassDenied {
                throw Octo.ErrorBody("UNPROCESSABLE_ENTITY", "pass \(number + 1) cannot be issued: \(denied.detail)", uuid: booking.uuid)
            }
            try await registerOctoVisitorLink(passID: passID, code: code.text, now: now)
        }
        booking.status = "confirmed"
        booking.contact = shownContact
        booking.confirmedAt = now
        booking.expiresAt = nil
        _ = try await store.updateBooking(booking, expecting: "held", now: now)
        metrics.octoBooking("confirmed")
        return try await octoView(try await octoOwned(uuid, caller), admitted, caller, now: now)
    }

    /// `POST /bookings/{uuid}/cancel`: a hold is released; a confirmed booking none of whose passes has been used
    /// is refunded by the product's rule (the reseller's signed `pass.refunded` of the refund due, for each pass),
    /// and the reseller's `booking_update` webhook is queued. A used ticket cannot be cancelled.
    public func octoCancel(_ uuid: String, _ request: Octo.CancelRequest, _ caller: OctoCaller, now: Date = Date()) async throws -> Octo.Booking {
        let admitted = try await octoAdmitted(caller)
        var booking = try await octoOwned(uuid, caller)
        if booking.status == "cancelled" { return try await octoView(booking, admitted, caller, now: now) }
        let reason = try Self.octoNotes(request.reason) ?? "cancelled by \(caller.reseller)"
        if booking.status == "held" {
            booking.status = "cancelled"
            booking.refund = "NONE"
        } else {
            var refunds: [(OctoUnitRecord, Int64, PassRecord)] = []
            var seen = Set<String>()
            for unit in booking.units where seen.insert(unit.passID).inserted {
                guard let record = try await store.pass(unit.passID), let product = passes.product(for: record) else {
                    throw Octo.ErrorBody("UNPROCESSABLE_ENTITY", "unit \(unit.uuid) has no pass", uuid: booking.uuid)
                }
                guard record.entries.values.reduce(0, +) == 0 else {
                    throw Octo.ErrorBody("UNPROCESSABLE_ENTITY", "a used ticket cannot be cancelled (unit \(unit.uuid) has entered)", uuid: booking.uuid)
                }
                if record.refundedMinor != nil { continue }
                let due = try record.state(product).refundDue().minorUnits
                refunds.append((unit, due, record))
            }
            for (unit, due, _) in refunds {
                do {
                    try await refundSellersPass(unit.passID, amountMinor: due, currency: booking.currency, reason: reason, seller: caller.reseller, now: now)
                } catch let denied as PassDenied {
                    throw Octo.ErrorBody("UNPROCESSABLE_ENTITY", "unit \(unit.uuid) cannot be refunded: \(denied.detail)", uuid: booking.uuid)
                }
            }
            booking.status = "cancelled"
            booking.refund = "FULL"
        }
        booking.cancelledAt = now
        booking.cancelReason = reason
        booking.expiresAt = nil
        let wasConfirmed = booking.refund == "FULL"
        guard try await store.updateBooking(booking, expecting: nil, now: now, webhook: wasConfirmed ? "booking_update" : nil) else {
            throw Octo.ErrorBody.invalidBooking(uuid)
        }
        metrics.octoBooking("cancelled")
        return try await octoView(try await octoOwned(uuid, caller), admitted, caller, now: now)
    }

    // MARK: Views

    /// A booking as OCTO shows it, with its status derived now: `EXPIRED` past a hold's expiry, `REDEEMED` once
    /// every unit's pass has entered (each unit item `REDEEMED` from its own first entry).
    func octoView(_ booking: OctoBookingRecord, _ admitted: AdmittedReseller, _ caller: OctoCaller, now: Date) async throws -> Octo.Booking {
        guard let product = passes.product(booking.product) else { throw Octo.ErrorBody.invalidProduct(booking.product) }
        let clock = octoClock
        let shown = octoProduct(product, admitted, caller)
        let option = shown.options[0]
        let units = Dictionary(option.units.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
        let entered = booking.status == "confirmed" ? try await store.firstEntries(booking.units.map(\.passID)) : [:]
        let bookingStatus: String =
            switch booking.status {
            case "held": booking.expired(now: now) ? "EXPIRED" : "ON_HOLD"
            case "cancelled": "CANCELLED"
            default: !booking.units.isEmpty && booking.units.allSatisfy { entered[$0.passID] != nil } ? "REDEEMED" : "CONFIRMED"
            }
        let slot = (try? octoSlot(booking.availabilityID, product))
        var pricings: [Octo.Pricing] = []
        let items = booking.units.map { unit -> Octo.UnitItem in
            let redeemed = entered[unit.passID]
            let status = booking.status == "confirmed" ? (redeemed != nil ? "REDEEMED" : "CONFIRMED") : bookingStatus
            let pricing = Octo.Pricing(
                original: (try? product.variant(category: unit.category, heads: unit.heads).price.minorUnits) ?? unit.retailMinor,
                retail: unit.retailMinor, net: unit.netMinor, currency: booking.currency)
            pricings.append(pricing)
            let ticket: Octo.Ticket? = unit.code.map {
                Octo.Ticket(utcRedeemedAt: redeemed.map(clock.utc), deliveryOptions: [.init(deliveryFormat: "QRCODE", deliveryValue: $0)])
            }
            let fallbackUnit = Octo.Unit(
                id: unit.category, internalName: unit.category, reference: nil, type: Self.octoUnitType(unit.category), requiredContactFields: [],
                restrictions: .init(minAge: 0, maxAge: 100, idRequired: true, minQuantity: nil, maxQuantity: nil, paxCount: 1), pricingFrom: nil)
            return Octo.UnitItem(
                uuid: unit.uuid, resellerReference: unit.resellerReference, supplierReference: "\(booking.reference)-\(unit.position + 1)",
                unitId: unit.category, unit: units[unit.category] ?? fallbackUnit, status: status, utcRedeemedAt: redeemed.map(clock.utc),
                contact: Octo.Contact(fullName: unit.holderMasked), ticket: booking.status == "confirmed" ? ticket : nil,
                pricing: caller.pricing ? pricing : nil,
                visitorPageUrl: booking.status == "confirmed" && unit.code != nil ? booking.baseURL + Self.visitorPath(octoVisitorToken(unit.passID)) : nil)
        }
        let contact = booking.contact.flatMap { try? JSONDecoder().decode(OctoShownContact.self, from: Data($0.utf8)) }
        let cancellation = booking.cancelledAt.map {
            Octo.Cancellation(refund: booking.refund ?? "NONE", reason: booking.cancelReason, utcCancelledAt: clock.utc($0))
        }
        let lastEntry = entered.values.max()
        return Octo.Booking(
            id: booking.reference, uuid: booking.uuid, resellerReference: booking.resellerReference, supplierReference: booking.reference,
            status: bookingStatus, utcCreatedAt: clock.utc(booking.createdAt), utcUpdatedAt: clock.utc(booking.updatedAt),
            utcExpiresAt: booking.status == "held" ? booking.expiresAt.map(clock.utc) : nil,
            utcRedeemedAt: bookingStatus == "REDEEMED" ? lastEntry.map(clock.utc) : nil, utcConfirmedAt: booking.confirmedAt.map(clock.utc),
            product: shown, option: option, cancellable: booking.status != "cancelled" && entered.isEmpty && !booking.expired(now: now),
            cancellation: cancellation, freesale: product.slots.isEmpty,
            availability: .init(
                id: booking.availabilityID, localDateTimeStart: slot.map { clock.local($0.start) } ?? booking.availabilityID,
                localDateTimeEnd: slot.map { clock.local($0.end) } ?? booking.availabilityID, allDay: booking.slot == nil,
                openingHours: slot?.slot.map { [Self.octoHours($0)] } ?? []),
            contact: contact?.octo ?? Octo.Contact(), notes: booking.notes, unitItems: items,
            pricing: caller.pricing ? Octo.Pricing.total(pricings, currency: booking.currency) : nil)
    }

    // MARK: Visitor links, holders, references

    /// Refunds a pass the hub issued for `seller` (a reseller, or the shop's seller of record): a `pass.refunded`
    /// signed with the seller's issuing key, decided and logged as any park's refund (``PassDenied`` when the rule
    /// refuses it).
    func refundSellersPass(_ passID: String, amountMinor: Int64, currency: String, reason: String, seller: ParkID, now: Date) async throws {
        let (_, jws) = try Assertions.sign(
            .passRefunded(PassRefunded(passID: passID, amountMinor: amountMinor, currency: currency, reason: String(reason.prefix(200)))),
            park: seller, key: issuingKey(of: seller), now: now)
        _ = try await decide(jws.compact, peer: Self.issuingPeer(seller), expecting: .passRefunded, now: now)
    }

    /// The reseller as the speaker of the assertions the hub signs for it, decided by the same rule as a park's
    /// (``decide(_:peer:expecting:now:)``).
    static func issuingPeer(_ reseller: ParkID) -> AuthenticatedPeer {
        AuthenticatedPeer(principal: .park(reseller), serial: "hub-issued", notAfter: .distantFuture)
    }

    /// The visitor page token of a reseller's pass: derived (HMAC of the pass id under a key of the hub's own), so
    /// that every view of the booking can show the link while the hub keeps only its hash, as for every link.
    func octoVisitorToken(_ passID: String) -> String {
        let key = secrets.fields.derivedKey("octo-visitor-link-v1")
        return Base64URL.encode(Data(HMAC<SHA256>.authenticationCode(for: Data(passID.utf8), using: key)))
    }

    func registerOctoVisitorLink(passID: String, code: String, now: Date) async throws {
        let token = octoVisitorToken(passID)
        guard try await store.visitorLink(tokenHash: Self.tokenHash(token)) == nil else { return }
        try await store.addVisitorLink(tokenHash: Self.tokenHash(token), passID: passID, generation: 0, code: code, now: now)
    }

    /// The holder as a reseller's pass carries it: masked name, document type, the document's HMAC under a key of
    /// the reseller's (derived at the hub), and the full name and document sealed to the hub, as a park's window does.
    func holderReference(_ document: IdentityDocument, name: String, nameMasked: String, reseller: ParkID) throws -> HolderRef {
        let key = secrets.fields.derivedKey("reseller-holder-v1:\(reseller.rawValue)")
        let digest = HMAC<SHA256>.authenticationCode(for: Data("\(document.kind.rawValue):\(document.number)".utf8), using: key)
        let plain = try StrictJSON.encoder.encode(HolderRef.Sealed(name: name, idType: document.kind.rawValue, idNumber: document.number))
        let sealed = try HolderSealing.seal(plain, to: secrets.holderSealPublicKey, purpose: HolderRef.sealPurpose)
        return HolderRef(
            nameMasked: nameMasked, idType: HolderRef.DocumentType(rawValue: document.kind.rawValue) ?? .other,
            idDigest: Base64URL.encode(Data(digest)), sealed: sealed)
    }

    /// What a booking keeps of its contact to show back: the name, e-mail and phone masked, never a document.
    struct OctoShownContact: Codable {
        var fullName: String?
        var emailAddress: String?
        var phoneNumber: String?
        var locales: [String]
        var country: String?
        var octo: Octo.Contact {
            Octo.Contact(fullName: fullName, emailAddress: emailAddress, phoneNumber: phoneNumber, locales: locales, country: country)
        }
    }

    static func octoShownContact(_ contact: Octo.ContactInput) throws -> String {
        if let name = contact.name, name.count > 100 { throw Octo.ErrorBody.unprocessable("contact names are at most 100 characters") }
        if let email = contact.emailAddress, email.count > 200 || !email.contains("@") {
            throw Octo.ErrorBody.unprocessable("contact.emailAddress is an e-mail address")
        }
        if let phone = contact.phoneNumber, phone.count > 32 { throw Octo.ErrorBody.unprocessable("contact.phoneNumber is at most 32 characters") }
        let locales = (contact.locales ?? []).filter { $0.count <= 35 }.prefix(10)
        let email = contact.emailAddress.map { address -> String in
            let parts = address.split(separator: "@", maxSplits: 1)
            return (parts.first.map { String($0.prefix(1)) } ?? "") + "***@" + (parts.count > 1 ? String(parts[1]) : "")
        }
        let shown = OctoShownContact(
            fullName: contact.name.map(Masking.name), emailAddress: email, phoneNumber: contact.phoneNumber.map(Masking.phone), locales: Array(locales),
            country: contact.country.map { String($0.prefix(2)) })
        return String(decoding: try JSONEncoder().encode(shown), as: UTF8.self)
    }

    static func octoUUID(_ text: String) throws -> String {
        guard let uuid = UUID(uuidString: text) else { throw Octo.ErrorBody.badRequest("\(String(text.prefix(64)).debugDescription) is not a UUID") }
        return uuid.uuidString.lowercased()
    }

    static func octoReference(_ text: String?, _ field: String) throws -> String? {
        guard let text else { return nil }
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard (1...100).contains(trimmed.count), !trimmed.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) else {
            throw Octo.ErrorBody.unprocessable("\(field) is 1-100 printable characters")
        }
        return trimmed
    }

    static func octoNotes(_ text: String?) throws -> String? {
        guard let text else { return nil }
        guard text.count <= 1000 else { throw Octo.ErrorBody.unprocessable("notes are at most 1000 characters") }
        return text.isEmpty ? nil : text
    }

    /// A reseller pass's id: 128 random bits in base64url (22 characters), shorter than a UUID so that a group's code
    /// with its category, heads and net still fits its QR code.
    static func octoPassID() -> String {
        var random = SystemRandomNumberGenerator()
        return "r" + Base64URL.encode((0..<16).map { _ in UInt8.random(in: 0...255, using: &random) })
    }

    /// A short reference a visitor can read out at a window: 10 characters without look-alikes.
    static func octoSupplierReference() -> String {
        let alphabet = Array("ABCDEFGHJKMNPQRSTUVWXYZ23456789")
        var random = SystemRandomNumberGenerator()
        return String((0..<10).map { _ in alphabet[Int.random(in: 0..<alphabet.count, using: &random)] })
    }
}

/// Local and UTC times as OCTO writes them (`2026-12-05T09:00:00+08:00`, `2026-12-05T01:00:00Z`).
struct OctoClock {
    let timeZone: TimeZone

    func date(_ day: CivilDay, minute: Int) -> Date {
        if minute >= 1440 { return date(day.adding(days: minute / 1440), minute: minute % 1440) }
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        return calendar.date(from: DateComponents(year: day.year, month: day.month, day: day.day, hour: minute / 60, minute: minute % 60))!
    }

    func local(_ date: Date) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.timeZone = timeZone
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.string(from: date)
    }

    func utc(_ date: Date) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.string(from: date)
    }
}

extension Array {
    subscript(safe index: Int) -> Element? { indices.contains(index) ? self[index] : nil }

    func asyncFilter(_ include: (Element) async throws -> Bool) async rethrows -> [Element] {
        var kept: [Element] = []
        for element in self where try await include(element) { kept.append(element) }
        return kept
    }
}
