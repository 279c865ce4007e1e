/// The node console's words in English and Chinese, one table (the templates hold the structure).
enum NodeConsoleText {
    static func words(_ chinese: Bool) -> [String: String] { chinese ? self.chinese : english }

    /// Keys one language has and the other lacks.
    static var missing: Set<String> { Set(english.keys).symmetricDifference(Set(chinese.keys)) }

    static let english: [String: String] = [
        "brand": "Park node", "navigation": "Navigation", "signedInAs": "Device", "signOut": "Sign out", "errorCode": "Code",
        "backHome": "Back", "cancel": "Cancel", "signIn": "Sign in",
        "signInHelp": "Sign in once with this device's credential (parkfed node device add, or the devices page); the console then keeps a session.",
        "credential": "Device credential", "dutyManager": "Duty manager", "hubLink": "Hub link", "trustList": "Trust list",
        "outbox": "Outbox", "pendingRejected": "pending / rejected", "gateMode": "Gate mode",
        "lastHubError": "Last hub error", "when": "When", "by": "By", "reason": "Reason", "alarms": "Alarms", "kind": "Kind",
        "detail": "Detail", "switchTo": "Switch to", "modeNormal": "normal", "modeFastCheck": "fast check", "modeEvacuation": "evacuation",
        "explainNormal": "Gates check every pass with the hub again.",
        "explainFastCheck": "Gates admit on the pass's own signature and local records only; entries are sent to the hub afterwards.",
        "explainEvacuation": "EVACUATION: every gate opens for everyone leaving and no entry is admitted. Confirm only in an emergency.",
        "modeChanged": "Gate mode is now {mode}.", "reachable": "up", "unreachable": "down", "unknown": "not yet",
        "unavailable": "unavailable", "devices": "Devices", "name": "Name", "role": "Role", "state": "State", "revoke": "Revoke",
        "addDevice": "Add a device", "credentialFor": "Credential for", "active": "active", "revoked": "revoked",
        "credentialShownOnce": "This credential is shown once: enter it on the device now (or scan the QR). Only its hash is kept.",
        "confirmRevoke": "Revoke device", "confirmRevokeText": "Revoke {name}? Its next request is refused.", "deviceRevoked": "Device {name} revoked.",
        "window": "Ticket window", "product": "Product", "category": "Category", "heads": "Heads", "slot": "Time slot",
        "holderName": "Holder's name", "documentType": "Document type", "documentNumber": "Document number", "sell": "Sell and print",
        "residentID": "Resident identity card", "passport": "Passport", "otherDocument": "Other document", "pass": "Pass",
        "holder": "Holder", "validity": "Valid", "parks": "Parks", "price": "Price", "printHint": "Print this page (Ctrl+P): the ticket prints alone.",
        "refund": "Refund", "nextSale": "Next sale", "confirmRefund": "Refund pass",
        "confirmRefundText": "Refund pass {pass}? The hub decides the amount by the product's rule; its code stops working.",
        "refunded": "Refunded {amount}.", "sold": "sold", "transfer": "Transfer to another holder", "newHolder": "New holder's name",
        "resalePrice": "Resale price (fen)", "reissue": "Re-issue to the same holder (lost ticket)",
        "rejectedAssertions": "Assertions the hub rejected", "assertionID": "Assertion", "stockBatches": "Printed stock", "batch": "Batch",
        "printed": "Printed", "voided": "Voided", "printerFile": "Printer's file (CSV)", "forbidden": "Not for this device",
        "notFound": "Not found",
        "hubUnavailable": "The hub does not answer now; this part is shown again when the link is back.",
        "moneyTitle": "Today and open positions", "businessDay": "Business day", "salesToday": "Sales today", "passes": "passes",
        "owedToUs": "Owed to us (open)", "owedByUs": "Owed by us (open)", "count": "Count", "amount": "Amount", "fee": "Hub fee",
        "settledThrough": "Settled through", "nextPosition": "Next settlement (net)", "reason_pass_redemption": "pass entries",
        "reason_card_spend": "card spends", "reason_card_refund": "card refunds", "reason_member_pass_allocation": "membership pass shares",
        "pendingAssertions": "Waiting to be sent", "created": "Created", "attempts": "Attempts", "conflictsTitle": "Offline conflicts",
        "gatePark": "Gate's park", "issuer": "Issuer", "logIndex": "Log entry", "nothing": "None.",
        "insideNow": "People inside now", "capacityNotice": "Capacity", "salesStoppedFor": "Sales stopped (daily capacity full):", "level_normal": "normal",
        "level_warning": "warning", "level_full": "full", "measure_daily": "daily capacity", "measure_instantaneous": "instantaneous capacity",
    ]

    static let chinese: [String: String] = [
        "brand": "景区节点", "navigation": "导航", "signedInAs": "设备", "signOut": "退出", "errorCode": "错误代码",
        "backHome": "返回", "cancel": "取消", "signIn": "登录",
        "signInHelp": "用本设备的凭证登录一次（parkfed node device add 或设备页面生成），之后控制台保持会话。",
        "credential": "设备凭证", "dutyManager": "值班经理", "hubLink": "与平台连接", "trustList": "信任列表",
        "outbox": "待发队列", "pendingRejected": "待发 / 被拒", "gateMode": "闸机模式",
        "lastHubError": "最近一次平台错误", "when": "时间", "by": "操作人", "reason": "原因", "alarms": "告警", "kind": "类型",
        "detail": "详情", "switchTo": "切换为", "modeNormal": "正常", "modeFastCheck": "快速验票", "modeEvacuation": "疏散",
        "explainNormal": "闸机对每张票重新向平台核验。",
        "explainFastCheck": "闸机只凭票面签名和本地记录放行，入园记录事后上报平台。",
        "explainEvacuation": "疏散：所有闸机对离园人员开放，不再放行入园。仅在紧急情况下确认。",
        "modeChanged": "闸机模式已切换为{mode}。", "reachable": "正常", "unreachable": "中断", "unknown": "尚未连接",
        "unavailable": "暂不可用", "devices": "设备", "name": "名称", "role": "角色", "state": "状态", "revoke": "吊销",
        "addDevice": "添加设备", "credentialFor": "设备凭证：", "active": "正常", "revoked": "已吊销",
        "credentialShownOnce": "凭证只显示这一次：请立即在设备上输入（或扫描二维码）。节点只保存其哈希。",
        "confirmRevoke": "吊销设备", "confirmRevokeText": "确认吊销 {name}？其下一次请求即被拒绝。", "deviceRevoked": "设备 {name} 已吊销。",
        "window": "售票窗口", "product": "产品", "category": "票种", "heads": "人数", "slot": "时段",
        "holderName": "持票人姓名", "documentType": "证件类型", "documentNumber": "证件号码", "sell": "售票并打印",
        "residentID": "居民身份证", "passport": "护照", "otherDocument": "其他证件", "pass": "票号",
        "holder": "持票人", "validity": "有效期", "parks": "景区", "price": "票价", "printHint": "打印本页（Ctrl+P），只会打印票面。",
        "refund": "退票", "nextSale": "下一位", "confirmRefund": "退票", "confirmRefundText": "确认退票 {pass}？退款金额由平台按产品规则决定，票码随即失效。",
        "refunded": "已退款 {amount}。", "sold": "已售", "transfer": "转让给他人", "newHolder": "新持票人姓名",
        "resalePrice": "转让价格（分）", "reissue": "补发给原持票人（遗失）",
        "rejectedAssertions": "被平台拒绝的断言", "assertionID": "断言", "stockBatches": "预印票库存", "batch": "批次",
        "printed": "已印", "voided": "已作废", "printerFile": "印刷文件（CSV）", "forbidden": "本设备无权访问", "notFound": "未找到",
        "hubUnavailable": "平台暂未应答；连接恢复后此处重新显示。",
        "moneyTitle": "今日与未结头寸", "businessDay": "营业日", "salesToday": "今日销售", "passes": "张",
        "owedToUs": "应收（未结）", "owedByUs": "应付（未结）", "count": "笔数", "amount": "金额", "fee": "平台手续费",
        "settledThrough": "已结算至", "nextPosition": "下次结算（净额）", "reason_pass_redemption": "联票入园",
        "reason_card_spend": "一卡通消费", "reason_card_refund": "一卡通退款", "reason_member_pass_allocation": "年卡分成",
        "pendingAssertions": "待发送", "created": "生成时间", "attempts": "尝试次数", "conflictsTitle": "离线冲突",
        "gatePark": "入园景区", "issuer": "出票景区", "logIndex": "日志条目", "nothing": "无。",
        "insideNow": "在园人数", "capacityNotice": "承载量", "salesStoppedFor": "已停售（日承载量已满）：", "level_normal": "正常", "level_warning": "预警", "level_full": "已满",
        "measure_daily": "日承载量", "measure_instantaneous": "瞬时承载量",
    ]
}

/// For the test that holds both languages to the same keys.
public enum NodeConsoleTextCheck {
    /// Keys that one language has and the other lacks (none, when the console is whole).
    public static var missingKeys: Set<String> { NodeConsoleText.missing }
}
