import Analytics
import Lifecycle
import Storage

/// What one configuration key may hold.
public indirect enum ConfigKind: Sendable {
  case string
  /// A string never printed or logged: shown as `***`.
  case secret
  case integer(ClosedRange<Int>)
  case boolean
  /// `250ms`, `30s`, `5m`, `2h`, `14d`.
  case duration
  case choice([String])
  /// A URL with one of these schemes; a password inside it is redacted.
  /// With `emptyTurnsOff`, "" is allowed and switches off what it is for.
  case url(schemes: [String], emptyTurnsOff: Bool = false)
  /// `ops@example.com` or `Name <ops@example.com>`.
  case mailbox
  case stringList
  case table([ConfigKey])
  /// `[section.NAME]` tables, one per name chosen by the user.
  case namedTables([ConfigKey])
  /// `[[section]]` entries, in file order.
  case tableList([ConfigKey])

  var expectation: String {
    switch self {
    case .string, .secret: return "a string"
    case .integer(let range): return "an integer from \(range.lowerBound) to \(range.upperBound)"
    case .boolean: return "true or false"
    case .duration: return "a duration such as \"30s\", \"5m\" or \"2h\""
    case .choice(let options): return "one of " + options.map { "\"\($0)\"" }.joined(separator: ", ")
    case .url(let schemes, _): return "a URL starting with " + schemes.map { "\($0)://" }.joined(separator: " or ")
    case .mailbox: return "an e-mail address such as \"Ops <ops@example.com>\""
    case .stringList: return "a list of strings"
    case .table, .namedTables: return "a table"
    case .tableList: return "a list of tables ([[…]])"
    }
  }
}

/// One key of the configuration: its kind, its default and the sentence
/// that documents it in `data/opsdeck.example.toml` and the README.
public struct ConfigKey: Sendable {
  public let name: String
  public let kind: ConfigKind
  /// nil: the key is optional and unset unless the file sets it.
  public let defaultValue: ConfigValue?
  public let doc: String
  /// Shown, commented out, in the example file for keys without a default.
  public let example: String?
  /// Older names the key is still read by (errors name the key as written).
  public let aliases: [String]

  public init(
    _ name: String, _ kind: ConfigKind, default defaultValue: ConfigValue?, doc: String, example: String? = nil,
    aliases: [String] = []
  ) {
    self.name = name
    self.kind = kind
    self.defaultValue = defaultValue
    self.doc = doc
    self.example = example
    self.aliases = aliases
  }

  public static func section(_ name: String, aliases: [String] = [], doc: String, _ keys: [ConfigKey]) -> ConfigKey {
    ConfigKey(name, .table(keys), default: nil, doc: doc, aliases: aliases)
  }

  /// `[name.ENTRY]` tables; `example` is a commented sample for the example file.
  public static func namedSections(_ name: String, doc: String, example: String, _ keys: [ConfigKey]) -> ConfigKey {
    ConfigKey(name, .namedTables(keys), default: nil, doc: doc, example: example)
  }

  /// `[[name]]` entries; `example` is a commented sample for the example file.
  public static func list(_ name: String, doc: String, example: String, _ keys: [ConfigKey]) -> ConfigKey {
    ConfigKey(name, .tableList(keys), default: nil, doc: doc, example: example)
  }
}

/// Every key opsdeck reads, in the order the example file lists them. Each
/// engine's issue adds its section here.
public enum ConfigSchema {
  public static let logLevels = ["trace", "debug", "info", "notice", "warning", "error", "critical"]

  /// The keys of a routing-tree node (`[alerting.route]` and its `routes`),
  /// children nested up to `depth` levels below.
  static func routeKeys(depth: Int) -> [ConfigKey] {
    var keys: [ConfigKey] = [
      ConfigKey(
        "receiver", .string, default: nil, doc: "The receiver of alerts this node takes (else its parent's).",
        example: "\"oncall\""),
      ConfigKey(
        "matchers", .stringList, default: nil,
        doc: "name=value, name!=value, name=~regex, name!~regex; severity matches as a label.",
        example: "[\"severity=~critical|error\"]"),
      ConfigKey(
        "continue", .boolean, default: nil, doc: "Also try the next sibling after this one matched.", example: "false"),
      ConfigKey(
        "group_by", .stringList, default: nil,
        doc:
          "Labels whose values make a group, notified as one message (unset: the parent's; [] one group; [\"...\"] every alert alone).",
        example: "[\"alertname\"]"),
      ConfigKey(
        "group_wait", .duration, default: nil,
        doc: "How long a new group waits for more alerts before its first notification.", example: "\"30s\""),
      ConfigKey(
        "group_interval", .duration, default: nil,
        doc: "How long a notified group waits before a notification about alerts added or resolved.",
        example: "\"5m\""),
      ConfigKey(
        "repeat_interval", .duration, default: nil,
        doc: "How often a still-firing group is notified again (not PagerDuty, which has its own).",
        example: "\"4h\""),
    ]
    if depth > 0 {
      keys.append(
        .list(
          "routes", doc: "Child routes, in order: the first whose matchers match takes the alert.",
          example: """
            [[alerting.route.routes]]
            matchers = ["severity=~critical|error"]
            receiver = "oncall"
            """, routeKeys(depth: depth - 1)))
    }
    return keys
  }

  public static let root: [ConfigKey] = [
    .section(
      "database", doc: "The SQLite file every process shares.",
      [
        ConfigKey(
          "path", .string, default: nil,
          doc: "The database file. --db and OPSDECK_DB take precedence; ./opsdeck.db when none is set.",
          example: "\"/var/lib/opsdeck/opsdeck.db\""),
        ConfigKey(
          "busy_timeout", .duration, default: .duration(.seconds(5)),
          doc: "How long a write waits for another process's write before it fails."),
      ]),
    .section(
      "log", doc: "Logging. The console writes its log to a file; `opsdeck run` writes to stderr.",
      [
        ConfigKey(
          "level", .choice(logLevels), default: .string("info"),
          doc: "The lowest level written: trace, debug, info, notice, warning, error or critical."),
        ConfigKey(
          "file", .string, default: .string("opsdeck.log"),
          doc: "Where the console writes its log while it is on screen."),
      ]),
    .section(
      "access",
      doc: "Who may act in the console. The user is $SUDO_USER, then $USER, then the account running opsdeck.",
      [
        ConfigKey(
          "default_role", .choice(["operator", "viewer"]), default: .string("operator"),
          doc: "The role of users listed in neither list."),
        ConfigKey(
          "viewers", .stringList, default: .list([]),
          doc: "Users who may only look (the growth team over SSH): no key that changes data exists for them."),
        ConfigKey(
          "operators", .stringList, default: .list([]), doc: "Users who may retry, remove, promote and pause."),
      ]),
    .section(
      "scheduler", doc: "Job queues: how workers (`opsdeck work`, `opsdeck run`, the console) run jobs.",
      [
        ConfigKey(
          "concurrency", .integer(1...10_000), default: .integer(8), doc: "Jobs running at once per queue, per process."
        ),
        ConfigKey(
          "lock_duration", .duration, default: .duration(.seconds(30)),
          doc: "A claimed job's lease; renewed at half of it while the job runs. A job whose lease runs out is stalled."
        ),
        ConfigKey(
          "max_stalled_count", .integer(0...1_000), default: .integer(1),
          doc: "How often a job may stall and go back to waiting before it fails."),
        ConfigKey(
          "stalled_interval", .duration, default: .duration(.seconds(30)),
          doc: "How often workers look for stalled jobs."),
        ConfigKey(
          "shutdown_grace", .duration, default: .duration(.seconds(25)),
          doc: "On SIGTERM or SIGINT, how long running jobs may finish before they are released to other workers."),
      ]),
    .namedSections(
      "queues", doc: "Per-queue settings, one [queues.NAME] table per queue. Queues need no entry to exist.",
      example: """
        [queues.webhooks]
        concurrency = 16
        rate_max = 100
        rate_per = "1s"
        """,
      [
        ConfigKey(
          "concurrency", .integer(1...10_000), default: nil,
          doc: "Jobs of this queue running at once per process (default: scheduler.concurrency)."),
        ConfigKey(
          "rate_max", .integer(1...1_000_000), default: nil,
          doc: "Start at most this many jobs per rate_per, across every worker of every process."),
        ConfigKey("rate_per", .duration, default: nil, doc: "The rate limit's window."),
      ]),
    .list(
      "schedules", doc: "Repeatable jobs: one [[schedules]] entry each, with cron (and tz) or every.",
      example: """
        [[schedules]]
        id = "fx-daily"
        queue = "fx"
        name = "exec"
        cron = "0 6 * * 1-5"
        tz = "Europe/Berlin"
        data = '{"command": "/usr/local/bin/fetch-rates"}'
        """,
      [
        ConfigKey("id", .string, default: nil, doc: "A name unique among schedules."),
        ConfigKey("queue", .string, default: nil, doc: "The queue its jobs go to."),
        ConfigKey("name", .string, default: nil, doc: "The job name (the handler)."),
        ConfigKey("cron", .string, default: nil, doc: "A cron pattern: 5 fields, 6 with seconds, or @daily …"),
        ConfigKey("tz", .string, default: nil, doc: "The IANA time zone of cron (default UTC)."),
        ConfigKey("every", .duration, default: nil, doc: "A fixed interval instead of cron."),
        ConfigKey("data", .string, default: nil, doc: "The job data, as JSON text."),
        ConfigKey("limit", .integer(1...Int(Int32.max)), default: nil, doc: "Stop after this many runs."),
      ]),
    .namedSections(
      "dependencies",
      doc:
        "External dependencies, one [dependencies.NAME] table each: every call to one goes through its circuit breaker and timeouts.",
      example: """
        [dependencies.fx]
        url = "https://rates.example.com/health"
        expect_status = 200
        connect_timeout = "2s"
        timeout = "10s"
        [dependencies.fx.breaker]
        sliding_window = "count"
        window_size = 100
        minimum_calls = 100
        failure_rate_threshold = 50
        slow_call_rate_threshold = 100
        slow_call_duration = "60s"
        wait_in_open = "60s"
        half_open_calls = 10
        """,
      [
        ConfigKey(
          "url", .url(schemes: ["http", "https", "file"]), default: nil,
          doc: "What `opsdeck probe` and health checks call."),
        ConfigKey(
          "expect_status", .integer(100...599), default: .integer(200), doc: "The status a healthy answer has."),
        ConfigKey("body_contains", .string, default: nil, doc: "Text a healthy answer's body contains."),
        ConfigKey(
          "latency_budget", .duration, default: nil, doc: "A health check slower than this is reported as slow.",
          example: "\"500ms\""),
        ConfigKey(
          "connect_timeout", .duration, default: .duration(.seconds(2)),
          doc: "The longest wait for a connection (CURLOPT_CONNECTTIMEOUT_MS)."),
        ConfigKey(
          "timeout", .duration, default: .duration(.seconds(10)),
          doc: "The longest a whole call may take (CURLOPT_TIMEOUT_MS)."),
        ConfigKey(
          "low_speed_limit", .integer(0...1_000_000_000), default: .integer(0),
          doc: "Abort a transfer slower than this many bytes per second for low_speed_time (0: never)."),
        ConfigKey(
          "low_speed_time", .duration, default: .duration(.seconds(30)), doc: "How long a slow transfer is allowed."),
        .section(
          "breaker", doc: "The circuit breaker (resilience4j's semantics and defaults).",
          [
            ConfigKey(
              "sliding_window", .choice(["count", "time"]), default: .string("count"),
              doc: "\"count\": the last window_size calls; \"time\": the calls of the last window_size seconds."),
            ConfigKey("window_size", .integer(1...100_000), default: .integer(100), doc: "Calls, or seconds."),
            ConfigKey(
              "minimum_calls", .integer(1...100_000), default: .integer(100),
              doc: "Rates are unknown (and the breaker stays closed) until this many calls are in the window."),
            ConfigKey(
              "failure_rate_threshold", .integer(1...100), default: .integer(50),
              doc: "Percent of failed calls at or above which the breaker opens."),
            ConfigKey(
              "slow_call_rate_threshold", .integer(1...100), default: .integer(100),
              doc: "Percent of slow calls at or above which the breaker opens."),
            ConfigKey(
              "slow_call_duration", .duration, default: .duration(.seconds(60)),
              doc: "A call taking longer than this is slow."),
            ConfigKey(
              "wait_in_open", .duration, default: .duration(.seconds(60)),
              doc: "How long an open breaker rejects calls before letting trial calls through."),
            ConfigKey(
              "wait_in_open_multiplier", .integer(1...10), default: .integer(1),
              doc: "Each reopening in a row multiplies the wait by this (1: the wait stays the same)."),
            ConfigKey(
              "max_wait_in_open", .duration, default: nil, doc: "The longest the growing wait gets.",
              example: "\"30m\""),
            ConfigKey(
              "half_open_calls", .integer(1...10_000), default: .integer(10),
              doc: "Trial calls in half-open; their outcome closes or reopens the breaker."),
            ConfigKey(
              "max_wait_in_half_open", .duration, default: .duration(.seconds(0)),
              doc: "How long half-open waits for its trial calls before reopening (0s: for ever)."),
            ConfigKey(
              "record_client_errors", .boolean, default: .boolean(false),
              doc: "Count HTTP 4xx answers other than 408 and 429 as failures (by default they are the caller's)."),
          ]),
      ]),
    .section(
      "alerting",
      doc: "Alerts the engines raise themselves (`alerts.watch`), and the timers of every alert.",
      [
        ConfigKey(
          "watch_every", .duration, default: .duration(.seconds(30)),
          doc: "How often alerts.watch looks at the engines (and runs the timers)."),
        ConfigKey(
          "backlog_threshold", .integer(1...1_000_000_000), default: .integer(10_000),
          doc: "Waiting jobs in one queue at or above which it alerts (warning)."),
        ConfigKey(
          "failure_threshold", .integer(1...1_000_000_000), default: .integer(10),
          doc: "Failed jobs in one queue within 10 minutes at or above which it alerts (error)."),
        ConfigKey(
          "notify_attempts", .integer(1...100), default: .integer(8),
          doc: "Tries per notification before it is marked failed."),
        ConfigKey(
          "notify_backoff", .string, default: .string("exponential:5s,jitter=0.2"),
          doc: "The wait between tries of a notification: fixed:DUR or exponential:DUR[,jitter=F]."),
        .list(
          "receivers", doc: "Where notifications go: one [[alerting.receivers]] each.",
          example: """
            [[alerting.receivers]]
            name = "oncall"
            type = "pagerduty"
            routing_key = "${PAGERDUTY_ROUTING_KEY}"
            """,
          [
            ConfigKey("name", .string, default: nil, doc: "The name routes refer to."),
            ConfigKey("type", .choice(["pagerduty", "slack", "email", "webhook"]), default: nil, doc: "The channel."),
            ConfigKey(
              "url", .url(schemes: ["https", "http"]), default: nil,
              doc: "PagerDuty's Events API (its public one unless set), Slack's incoming webhook, or any URL."),
            ConfigKey("routing_key", .secret, default: nil, doc: "PagerDuty's integration (routing) key."),
            ConfigKey("to", .stringList, default: nil, doc: "E-mail recipients."),
          ]),
        .list(
          "escalation_policies",
          doc: "Unacknowledged alerts matching a policy are notified level by level, each after its delay.",
          example: """
            [[alerting.escalation_policies]]
            name = "critical"
            matchers = ["severity=critical"]
            [[alerting.escalation_policies.levels]]
            receivers = ["oncall"]
            after = "0s"
            [[alerting.escalation_policies.levels]]
            receivers = ["manager"]
            after = "15m"
            """,
          [
            ConfigKey("name", .string, default: nil, doc: "The policy's name (in the audit trail)."),
            ConfigKey("matchers", .stringList, default: nil, doc: "Which alerts it takes (every alert when empty)."),
            ConfigKey("repeat", .integer(0...100), default: nil, doc: "How often the whole ladder starts over."),
            ConfigKey("repeat_every", .duration, default: nil, doc: "The time between starts of the ladder."),
            .list(
              "levels", doc: "The ladder, lowest first.",
              example: """
                [[alerting.escalation_policies.levels]]
                receivers = ["oncall"]
                after = "0s"
                """,
              [
                ConfigKey("receivers", .stringList, default: nil, doc: "Who this level notifies."),
                ConfigKey("after", .duration, default: nil, doc: "How long after the alert first fired."),
              ]),
          ]),
        .list(
          "inhibit_rules",
          doc:
            "While an alert matches source_matchers, alerts matching target_matchers that share the equal labels are not notified.",
          example: """
            [[alerting.inhibit_rules]]
            source_matchers = ["alertname=DatabaseDown", "severity=critical"]
            target_matchers = ["severity=warning"]
            equal = ["cluster"]
            """,
          [
            ConfigKey("source_matchers", .stringList, default: nil, doc: "What the muting alert matches."),
            ConfigKey("target_matchers", .stringList, default: nil, doc: "What the muted alerts match."),
            ConfigKey("equal", .stringList, default: nil, doc: "Labels both must share."),
          ]),
        ConfigKey(
          "route",
          .table(
            routeKeys(depth: 6)), default: nil, doc: "The routing tree's root (no receiver: nothing is notified)."),
        ConfigKey(
          "bell", .boolean, default: .boolean(true),
          doc: "The console rings the terminal bell (or flashes) when a critical alert starts firing."),
        ConfigKey(
          "ack_timeout", .duration, default: .duration(.seconds(0)),
          doc: "An acknowledged alert still firing this long after the ack fires again (0s: never)."),
        ConfigKey(
          "resolve_timeout", .duration, default: .duration(.seconds(0)),
          doc:
            "An open alert not seen again for this long resolves itself (0s: never; engine alerts resolve when their condition clears)."
        ),
      ]),
    .section(
      "fx", doc: "Daily FX rates: the `fx.sync` schedule fetches them through the `fx` dependency's breaker.",
      [
        ConfigKey(
          "url", .url(schemes: ["https", "http", "file"], emptyTurnsOff: true),
          default: .string("https://www.ecb.europa.eu/stats/eurofxref/eurofxref-daily.xml"),
          doc: "The feed: the ECB's daily XML, a JSON {base, date, rates}, or a file:// path; \"\" turns fx.sync off."),
        ConfigKey("format", .choice(["ecb", "json"]), default: .string("ecb"), doc: "The feed's format."),
        ConfigKey(
          "cron", .string, default: .string("30 16 * * 1-5"),
          doc: "When the `fx.sync` schedule runs (the ECB publishes around 16:00 CET on working days)."),
        ConfigKey("tz", .string, default: .string("Europe/Berlin"), doc: "The time zone of cron."),
        ConfigKey(
          "stale_after", .duration, default: .duration(.seconds(96 * 3600)),
          doc: "Rates whose date is older than this are flagged stale (96h spans a long weekend)."),
      ]),
    .section(
      "health", doc: "Health checks: `health.check` probes every dependency with a url, through its breaker.",
      [
        ConfigKey(
          "every", .duration, default: .duration(.seconds(60)),
          doc: "How often the `health.check` schedule runs (when a dependency has a url).")
      ]),
    .section(
      "webhooks", doc: "Outgoing webhooks: how `webhook.deliver` jobs retry, and when an endpoint is switched off.",
      [
        ConfigKey("queue", .string, default: .string("webhooks"), doc: "The queue webhook jobs go to."),
        ConfigKey(
          "attempts", .integer(1...100), default: .integer(6), doc: "Deliveries tried per event before it fails."),
        ConfigKey(
          "backoff", .string, default: .string("exponential:10s,jitter=0.2"),
          doc: "The wait between tries: fixed:DUR or exponential:DUR[,jitter=F]."),
        ConfigKey(
          "disable_after", .integer(1...100_000), default: .integer(20),
          doc:
            "Failed deliveries in a row after which an endpoint is disabled (`opsdeck webhooks enable` turns it back on)."
        ),
        ConfigKey(
          "timeout", .duration, default: .duration(.seconds(15)), doc: "The longest one delivery may take."),
      ]),
    .section(
      "email", aliases: ["smtp"],
      doc: "How lifecycle e-mails and e-mail alerts leave ([smtp], its older name, is read the same).",
      [
        ConfigKey(
          "transport", .choice(["smtp", "resend", "sendgrid", "file"]), default: .string("smtp"),
          doc:
            "How mail leaves: SMTP (url, username, password), Resend's or SendGrid's HTTP API (api_key), or a maildir (file, for the demo)."
        ),
        ConfigKey(
          "url", .url(schemes: ["smtp", "smtps", "file"]), default: .string("smtp://localhost:25"),
          doc:
            "smtp:// (STARTTLS when the server offers it), smtps:// (TLS from the start), or file:///path of a maildir."
        ),
        ConfigKey("username", .string, default: .string(""), doc: "The AUTH user; empty for no AUTH."),
        ConfigKey(
          "password", .secret, default: .string(""),
          doc: "The AUTH password. Never printed; take it from the environment.",
          example: "\"${OPSDECK_SMTP_PASSWORD}\""),
        ConfigKey(
          "from", .mailbox, default: .string("opsdeck <opsdeck@localhost>"),
          doc: "The From: of every message opsdeck sends."),
        ConfigKey(
          "starttls", .choice(["try", "required", "off"]), default: .string("try"),
          doc: "smtp:// only: STARTTLS when offered (try), refuse to send without it (required), or never (off)."),
        ConfigKey(
          "timeout", .duration, default: .duration(.seconds(30)), doc: "The longest one message may take to send."),
        ConfigKey(
          "ca_file", .string, default: nil,
          doc:
            "PEM file of the CAs the server's certificate is checked against, for a private CA (default: the system's).",
          example: "\"/etc/ssl/private-ca.pem\""),
        ConfigKey(
          "api_key", .secret, default: .string(""), doc: "The Resend or SendGrid API key. Never printed.",
          example: "\"${OPSDECK_MAIL_API_KEY}\""),
        ConfigKey(
          "api_url", .url(schemes: ["https", "http"]), default: nil,
          doc: "The HTTP API's endpoint, when not its public one (a proxy, a test server)."),
      ]),
    .section(
      "lifecycle", doc: "Trials, onboarding, e-mail sequences and usage e-mails.",
      [
        ConfigKey("trial_days", .integer(1...365), default: .integer(30), doc: "How long a trial lasts."),
        ConfigKey(
          "send_hour", .integer(0...23), default: .integer(9),
          doc: "The local hour (in the account's time zone) sequence e-mails go out."),
        ConfigKey(
          "quiet_start", .integer(0...23), default: .integer(21),
          doc: "From this local hour no e-mail goes out (occasional ones wait)..."),
        ConfigKey(
          "quiet_end", .integer(0...23), default: .integer(8), doc: "...until this one. Equal: no quiet hours."),
        ConfigKey(
          "max_per_day", .integer(0...100), default: .integer(2),
          doc: "At most this many lifecycle e-mails to an account in any 24 hours (0: no cap); the rest wait."),
        ConfigKey(
          "max_per_week", .integer(0...100), default: .integer(5),
          doc: "At most this many in any 7 days (0: no cap)."),
        ConfigKey(
          "stale_after", .duration, default: .duration(.seconds(48 * 3600)),
          doc: "A sequence e-mail held back (caps, downtime) longer than this after its time is skipped, not sent late."
        ),
        ConfigKey(
          "reengage_after", .duration, default: .duration(.seconds(7 * 86400)),
          doc: "No activity for this long sends the re-engagement e-mail, once per idle stretch (0s: never)."),
        ConfigKey(
          "tick_every", .duration, default: .duration(.seconds(60)),
          doc: "How often lifecycle.tick runs (one process at a time: it is a scheduled job)."),
        ConfigKey(
          "templates", .string, default: .string("data/templates"),
          doc: "The folder of NAME.txt.mustache and NAME.html.mustache templates."),
        ConfigKey(
          "unsubscribe_url", .string, default: nil,
          doc: "The product's one-click unsubscribe endpoint; {{token}} is replaced by the signed token.",
          example: "\"https://app.example.test/unsubscribe?token={{token}}\""),
        ConfigKey(
          "unsubscribe_secret", .secret, default: .string(""),
          doc: "The key tokens are signed with (empty: a random one kept in the database).",
          example: "\"${OPSDECK_UNSUBSCRIBE_SECRET}\""),
        ConfigKey(
          "preview_to", .mailbox, default: nil, doc: "Where the console's `p` (send a preview to yourself) mails.",
          example: "\"Ana <ana@example.test>\""),
        ConfigKey("queue", .string, default: .string("email"), doc: "The queue email.send jobs go on."),
        ConfigKey("attempts", .integer(1...100), default: .integer(5), doc: "Tries per e-mail before it fails."),
        .namedSections(
          "metrics", doc: "How a metric's records add up per billing period (sum unless said).",
          example: """
            [lifecycle.metrics.seats]
            aggregate = "max"
            """,
          [
            ConfigKey(
              "aggregate", .choice(Aggregate.allCases.map(\.rawValue)), default: .string("sum"),
              doc: "sum, count, max or last.")
          ]),
        .list(
          "onboarding", doc: "Onboarding steps, in order, each completed by an event (`opsdeck events track`).",
          example: """
            [[lifecycle.onboarding]]
            id = "bank_connected"
            title = "Connect your bank"
            event = "bank.connected"
            """,
          [
            ConfigKey("id", .string, default: nil, doc: "The step's name, for `unless` and `only_if`."),
            ConfigKey("title", .string, default: nil, doc: "What the console and e-mails call it."),
            ConfigKey("event", .string, default: nil, doc: "The event that completes it."),
          ]),
        .list(
          "sequences",
          doc:
            "E-mail sequences of the trial: steps at day offsets from the trial's start, at send_hour local time. Without any, the seed's trial sequence is used.",
          example: """
            [[lifecycle.sequences]]
            name = "trial"
            [[lifecycle.sequences.steps]]
            id = "welcome"
            day = 0
            template = "welcome"
            subject = "Welcome to Reconcile, {{name}}"
            # unless = "bank_connected"
            """,
          [
            ConfigKey("name", .string, default: nil, doc: "The sequence's name."),
            ConfigKey(
              "exit_on_convert", .boolean, default: nil, doc: "A converted account leaves it at once (true)."),
            .list(
              "steps", doc: "Its e-mails.", example: "",
              [
                ConfigKey("id", .string, default: nil, doc: "The step's name, unique in its sequence."),
                ConfigKey("day", .integer(0...365), default: nil, doc: "Days after the trial started."),
                ConfigKey(
                  "template", .string, default: nil, doc: "The template's name (data/templates/NAME.txt.mustache)."),
                ConfigKey("subject", .string, default: nil, doc: "The subject, a Mustache string."),
                ConfigKey("unless", .stringList, default: nil, doc: "Skip when any of these onboarding steps is done."),
                ConfigKey("only_if", .stringList, default: nil, doc: "Send only when all of these are done."),
                ConfigKey("only_plan", .stringList, default: nil, doc: "Send only to accounts on these plans."),
                ConfigKey(
                  "priority", .integer(0...100), default: nil,
                  doc: "Which e-mail goes first when a cap lets only some through (50)."),
              ]),
          ]),
      ]),
    .namedSections(
      "plans",
      doc:
        "Plans, one [plans.NAME] each, with a monthly price and quotas per metric. `trial` is the trial's. Without any, the seed's trial, starter, growth and scale are used.",
      example: """
        [plans.growth]
        price = 199
        [plans.growth.quotas.reconciliations]
        limit = 1000
        enforce = "hard"
        """,
      [
        ConfigKey("price", .integer(0...1_000_000), default: .integer(0), doc: "Monthly price, in whole units."),
        .namedSections(
          "quotas", doc: "Quotas per metric and billing period (the calendar month in the account's zone).",
          example: "",
          [
            ConfigKey(
              "limit", .integer(0...1_000_000_000), default: nil,
              doc: "The most one period allows (0: not in this plan)."),
            ConfigKey(
              "enforce", .choice(["hard", "soft"]), default: .string("hard"),
              doc: "hard denies above the limit; soft allows and warns."),
          ]),
      ]),
    .section(
      "analytics", doc: "Funnels, retention and metrics: the saved reports the console's Funnels pane shows.",
      [
        ConfigKey(
          "tz", .string, default: .string("UTC"), doc: "The IANA zone of retention's calendar buckets."),
        ConfigKey(
          "week_start", .choice(["sunday", "monday"]), default: .string("sunday"),
          doc: "The first day of a retention week (PostHog's default is Sunday)."),
        ConfigKey(
          "activation_days", .integer(1...90), default: .integer(7),
          doc: "Activation: onboarding completed within this many days of sign-up."),
        .list(
          "funnels",
          doc:
            "Saved funnels, in the order the pane offers them. Without any, the seed's: trial to paid, and onboarding.",
          example: """
            [[analytics.funnels]]
            name = "trial to paid"
            steps = ["signup", "bank.connected", "reconciliation.completed", "plan.upgraded"]
            window = "30d"
            breakdown = "source"
            """,
          [
            ConfigKey("name", .string, default: nil, doc: "What the pane calls it."),
            ConfigKey("steps", .stringList, default: nil, doc: "Event names, in order (at least two)."),
            ConfigKey("window", .duration, default: nil, doc: "The conversion window (14d)."),
            ConfigKey(
              "mode", .choice(FunnelMode.allCases.map(\.rawValue)), default: nil, doc: "ordered, strict or any."),
            ConfigKey("breakdown", .string, default: nil, doc: "The property `b` breaks it down by."),
            ConfigKey("exclude", .stringList, default: nil, doc: "EVENT:i:j exclusions."),
          ]),
        .list(
          "retention",
          doc: "Saved retention reports. Without any, the seed's: weekly reconciliations after sign-up.",
          example: """
            [[analytics.retention]]
            name = "weekly reconciliations"
            start_event = "signup"
            return_event = "reconciliation.completed"
            period = "week"
            """,
          [
            ConfigKey("name", .string, default: nil, doc: "What the pane calls it."),
            ConfigKey("start_event", .string, default: nil, doc: "The event that puts an actor in a cohort."),
            ConfigKey("return_event", .string, default: nil, doc: "The event that counts as coming back."),
            ConfigKey(
              "period", .choice(RetentionPeriod.allCases.map(\.rawValue)), default: nil, doc: "day, week or month."),
            ConfigKey("recurring", .boolean, default: nil, doc: "Recurring cohorts rather than first-time."),
          ]),
      ]),
  ]
}
