import ParkFedProtocol

/// The consoles' words in English and Chinese, one table: the templates hold the structure, this holds the text.
/// A key missing in one language is a test failure (``ConsoleText/missing``), never a blank on a page.
enum ConsoleText {
    typealias Language = MessageCatalog.Language

    /// The words of `language`, keyed as the templates name them (`{{t.approve}}`).
    static func words(_ language: Language) -> [String: String] { language == .zh ? chinese : english }

    /// Keys one language has and the other lacks.
    static var missing: Set<String> { Set(english.keys).symmetricDifference(Set(chinese.keys)) }

    static let english: [String: String] = [
        "brand": "ParkFederation", "navigation": "Navigation", "signedInAs": "Signed in as", "errorCode": "Code",
        "backHome": "Back to the console", "cancel": "Cancel",
        "settlement": "Settlement", "settlementCalendar": "Settlement calendar", "timeZone": "Time zone",
        "cutOff": "each business day closes at local midnight", "businessDay": "Business day", "state": "State",
        "obligations": "Obligations", "gross": "Gross", "net": "Net", "reduction": "Reduction", "open": "Open",
        "closeDay": "Close the day", "batch": "Batch", "checkpoint": "Log checkpoint", "approvedBy": "Approved by",
        "downloadJSON": "Download JSON", "downloadPositions": "Positions (CSV)", "downloadObligations": "Obligations (CSV)",
        "netPositions": "Net positions per park", "park": "Park", "paymentReference": "Payment reference",
        "grossMatrix": "Gross obligations between parks (row owes column)", "fromTo": "Owes ↓ / to →",
        "approve": "Approve the batch", "markPaid": "Mark paid", "recordPayments": "Record the payment references",
        "obligationsOf": "Obligations of", "from": "From", "to": "To", "amount": "Amount", "reason": "Reason",
        "reference": "Reference", "assertions": "Assertions", "logEntry": "Log entry", "assertionID": "Assertion id",
        "type": "Type", "leafHash": "Leaf hash", "inclusion": "Inclusion in the signed log",
        "inclusionVerified": "inclusion proof verified against the latest checkpoint", "inclusionMissing": "not yet covered by a checkpoint",
        "treeSize": "tree size", "stateOpen": "open", "stateDraft": "closed, awaiting approval", "stateApproved": "approved",
        "statePaid": "paid", "confirmApprove": "Approve batch",
        "confirmApproveText": "Approving makes the batch final: nothing changes it afterwards. Approve {batch} (net {net})?",
        "approved": "Batch {batch} approved.", "paymentsRecorded": "Payment references recorded; the batch is {state}.",
        "dayClosed": "The day {day} is closed as batch {batch}.",
        "operator": "Federation", "federation": "Federation", "trustList": "Trust list", "logSize": "Log entries",
        "verifyLog": "Last log verification", "verifyNow": "Verify the whole log now", "conflicts": "Offline conflicts",
        "parks": "Parks", "name": "Name", "certificateExpiry": "Certificate valid until", "signingKeys": "Signing keys",
        "revoke": "Revoke", "enrollmentTokens": "Enrollment tokens", "parkID": "Park id", "readmit": "Re-admit a revoked park",
        "makeToken": "Make a one-time token", "created": "Created", "expires": "Expires", "tokenFor": "Enrollment token for",
        "tokenShownOnce": "This token is shown once. Give it to the park's operator now; only its hash is stored.",
        "confirmRevoke": "Revoke park", "confirmRevokeText": "Revoking {park} refuses its certificates and signing keys at once, on its next request. Revoke?",
        "revoked": "Park {park} revoked: {count} certificate(s).", "tokenUsed": "used", "tokenExpired": "expired", "tokenOpen": "open",
        "parkActive": "active", "parkRevoked": "revoked", "verifyOK": "all {entries} entries verify", "verifyBad": "FAILED at index {index}",
        "verifyNever": "not run yet",
        "regulator": "Real-name records", "realNameLookup": "Real-name lookup",
        "queryRecorded": "Every query is recorded in the federation's signed log with your name, the masked number and the number of records.",
        "documentType": "Document type", "documentNumber": "Document number", "search": "Search",
        "traffic": "Traffic against capacity", "trafficFor": "Traffic", "myQueries": "My past queries", "when": "When", "query": "Query",
        "records": "Records", "logIndex": "Log index", "lookupResult": "Lookup result", "queryLogged": "This query is in the log at index",
        "purchases": "Purchases", "entries": "Entries", "pass": "Pass", "holder": "Holder", "product": "Product",
        "hourly": "Entries per hour", "noEntries": "No entries in this range.",
        "residentID": "Resident identity card", "passport": "Passport", "otherDocument": "Other document",
        "sales": "Sales", "passesSold": "Passes sold", "downloadCSV": "Download CSV", "forbidden": "Not for you", "notFound": "Not found", "refused": "Refused",
        "nothing": "None.", "alarms": "Alarms", "severity": "Severity", "kind": "Kind", "subject": "About", "detail": "Detail", "gatePark": "Gate's park",
        "issuer": "Issuer", "severity_warning": "warning", "severity_critical": "critical",
        "alarm_log_verification_failed": "Log verification failed", "alarm_log_verification_stale": "Log not verified in 24 h",
        "alarm_certificate_expired": "Certificate expired", "alarm_certificate_expiring": "Certificate expires soon",
        "alarm_checkpoint_behind": "Log ahead of its checkpoint", "alarm_offline_conflicts": "Offline conflicts",
    ]

    static let chinese: [String: String] = [
        "brand": "景区联盟清算平台", "navigation": "导航", "signedInAs": "当前身份", "errorCode": "错误代码",
        "backHome": "返回控制台", "cancel": "取消",
        "settlement": "清算", "settlementCalendar": "清算日历", "timeZone": "时区",
        "cutOff": "每个营业日于当地午夜截止", "businessDay": "营业日", "state": "状态",
        "obligations": "债务笔数", "gross": "总额", "net": "净额", "reduction": "轧差节省", "open": "查看",
        "closeDay": "日终轧差", "batch": "批次", "checkpoint": "日志检查点", "approvedBy": "审批人",
        "downloadJSON": "下载 JSON", "downloadPositions": "净头寸（CSV）", "downloadObligations": "债务明细（CSV）",
        "netPositions": "各景区净头寸", "park": "景区", "paymentReference": "付款凭证号",
        "grossMatrix": "景区间应付总额（行应付列）", "fromTo": "应付方 ↓ / 收款方 →",
        "approve": "审批批次", "markPaid": "登记付款", "recordPayments": "登记付款凭证号",
        "obligationsOf": "债务明细：", "from": "起", "to": "止", "amount": "金额", "reason": "原因",
        "reference": "关联编号", "assertions": "断言", "logEntry": "日志条目", "assertionID": "断言编号",
        "type": "类型", "leafHash": "叶哈希", "inclusion": "签名日志收录",
        "inclusionVerified": "已按最新检查点验证收录证明", "inclusionMissing": "尚未被检查点覆盖",
        "treeSize": "树大小", "stateOpen": "未结", "stateDraft": "已轧差，待审批", "stateApproved": "已审批",
        "statePaid": "已付款", "confirmApprove": "审批批次", "confirmApproveText": "审批后批次即为终局，不可再改。确认审批 {batch}（净额 {net}）？",
        "approved": "批次 {batch} 已审批。", "paymentsRecorded": "付款凭证已登记，批次状态：{state}。",
        "dayClosed": "营业日 {day} 已轧差为批次 {batch}。",
        "operator": "联盟运营", "federation": "联盟", "trustList": "信任列表", "logSize": "日志条目数",
        "verifyLog": "最近一次日志校验", "verifyNow": "立即校验全部日志", "conflicts": "离线冲突",
        "parks": "景区", "name": "名称", "certificateExpiry": "证书有效期至", "signingKeys": "签名密钥",
        "revoke": "吊销", "enrollmentTokens": "入网令牌", "parkID": "景区编号", "readmit": "重新接纳已吊销景区",
        "makeToken": "生成一次性令牌", "created": "创建时间", "expires": "过期时间", "tokenFor": "入网令牌：",
        "tokenShownOnce": "令牌只显示这一次，请立即交给景区运维人员；平台只保存其哈希。",
        "confirmRevoke": "吊销景区", "confirmRevokeText": "吊销 {park} 后，其证书和签名密钥在下一次请求时即被拒绝。确认吊销？",
        "revoked": "景区 {park} 已吊销：{count} 张证书。", "tokenUsed": "已使用", "tokenExpired": "已过期", "tokenOpen": "可用",
        "parkActive": "正常", "parkRevoked": "已吊销", "verifyOK": "全部 {entries} 条校验通过", "verifyBad": "在第 {index} 条校验失败",
        "verifyNever": "尚未校验",
        "regulator": "实名记录", "realNameLookup": "实名查询",
        "queryRecorded": "每次查询都会连同您的身份、脱敏证件号和记录条数写入联盟的签名日志。",
        "documentType": "证件类型", "documentNumber": "证件号码", "search": "查询",
        "traffic": "客流与承载量", "trafficFor": "客流", "myQueries": "我的历史查询", "when": "时间", "query": "查询内容",
        "records": "记录数", "logIndex": "日志序号", "lookupResult": "查询结果", "queryLogged": "本次查询已写入日志，序号",
        "purchases": "购票记录", "entries": "入园记录", "pass": "票号", "holder": "持票人", "product": "产品",
        "hourly": "每小时入园人数", "noEntries": "该时间段内没有入园记录。",
        "residentID": "居民身份证", "passport": "护照", "otherDocument": "其他证件",
        "sales": "销售", "passesSold": "售出票数", "downloadCSV": "下载 CSV", "forbidden": "无权访问", "notFound": "未找到", "refused": "请求被拒绝",
        "nothing": "无。", "alarms": "告警", "severity": "级别", "kind": "类型", "subject": "对象", "detail": "详情", "gatePark": "入园景区",
        "issuer": "出票景区", "severity_warning": "警告", "severity_critical": "严重",
        "alarm_log_verification_failed": "日志校验失败", "alarm_log_verification_stale": "24 小时内未校验日志",
        "alarm_certificate_expired": "证书已过期", "alarm_certificate_expiring": "证书即将到期",
        "alarm_checkpoint_behind": "日志超出最新检查点", "alarm_offline_conflicts": "离线冲突",
    ]

}

/// For the test that holds both languages to the same keys.
public enum ConsoleTextCheck {
    /// Keys that one language has and the other lacks (none, when the console is whole).
    public static var missingKeys: Set<String> { ConsoleText.missing }
}
