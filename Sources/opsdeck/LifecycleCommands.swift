import Analytics
import ArgumentParser
import Foundation
import Lifecycle
import OpsDeck
import Storage

/// JSON helpers for the lifecycle listings: every key present (null when unset).
enum LifecycleJSON {
  static func date(_ date: Date?) -> JSONValue { date.map { .string(Timestamp.format($0)) } ?? .null }
  static func string(_ text: String?) -> JSONValue { text.map(JSONValue.string) ?? .null }

  static func account(_ account: Account) -> [String: JSONValue] {
    [
      "id": .string(account.id), "name": .string(account.name), "email": .string(account.email),
      "tz": .string(account.tz), "plan": .string(account.plan), "created_at": date(account.createdAt),
      "trial": .number(Double(account.trial)), "trial_started_at": date(account.trialStartedAt),
      "trial_ends_at": date(account.trialEndsAt), "expired_at": date(account.expiredAt),
      "converted_at": date(account.convertedAt), "churned_at": date(account.churnedAt),
      "suppressed": .bool(account.suppressedAt != nil), "suppressed_at": date(account.suppressedAt),
      "last_active_at": date(account.lastActiveAt), "next_email_step": string(account.nextEmailStep),
      "next_email_at": date(account.nextEmailAt),
    ]
  }

  static func usage(_ line: UsageLine) -> JSONValue {
    .object([
      "metric": .string(line.metric), "used": .number(line.used),
      "limit": line.quota.map { .number($0.limit) } ?? .null,
      "enforce": line.quota.map { .string($0.hard ? "hard" : "soft") } ?? .null,
      "percent": line.percent.map { .number(Double($0)) } ?? .null,
    ])
  }
}

struct AccountsCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "accounts", abstract: "Customer accounts: sign up, list, show a timeline, convert, suppress.",
    subcommands: [Add.self, List.self, Show.self, Convert.self, Suppress.self, Churn.self], defaultSubcommand: List.self
  )

  struct Churn: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "The customer left: no more lifecycle e-mail, and it counts as churn in the metrics.")
    @OptionGroup var global: GlobalOptions
    @Argument var id: String
    @Option(help: "Why (kept on the timeline).") var reason = "churned"

    func run() throws {
      try global.runtime().lifecycle(.write).churn(id, reason: reason)
      Output.line("\(id) churned")
    }
  }

  struct Add: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Sign an account up; on the trial plan its trial and e-mail sequence start now.",
      discussion: "Example:\n  opsdeck accounts add acme --email ana@acme.test --name \"Acme Ltd\" --tz Europe/Berlin")
    @OptionGroup var global: GlobalOptions
    @Argument(help: "The account's id (the product's).") var id: String
    @Option(help: "The owner's e-mail address.") var email: String
    @Option(help: "The company's name (default: the id).") var name: String?
    @Option(help: "trial (default) or a paid plan.") var plan = "trial"
    @Option(help: "IANA time zone its e-mails are timed in.") var tz = "UTC"

    func run() throws {
      let account = try global.runtime().lifecycle(.write).addAccount(
        id: id, email: email, name: name, plan: plan, tz: tz)
      Output.line(account.id)
    }
  }

  struct List: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Accounts, newest first.")
    @OptionGroup var global: GlobalOptions
    @Flag(help: "Print JSON.") var json = false

    func run() throws {
      let runtime = try global.runtime()
      let accounts = try runtime.lifecycle(.view).accounts()
      if json { return try Output.json(JSONValue.array(accounts.map { .object(LifecycleJSON.account($0)) })) }
      let now = runtime.clock.now()
      Output.columns(
        ["ID", "NAME", "PLAN", "EMAIL", "TRIAL", "CREATED"],
        accounts.map { account in
          let trial = account.trialEndsAt.map { TrialClock(endsAt: $0, now: now).text } ?? "-"
          return [
            account.id, account.name, account.plan + (account.suppressedAt != nil ? " (suppressed)" : ""),
            account.email, account.convertedAt != nil ? "converted" : trial,
            Output.relative(account.createdAt, now: now),
          ]
        })
    }
  }

  struct Show: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "One account: its trial, onboarding, usage and timeline (events, e-mails, usage, plan changes).")
    @OptionGroup var global: GlobalOptions
    @Argument var id: String
    @Flag(help: "Print JSON.") var json = false

    func run() throws {
      let runtime = try global.runtime()
      let lifecycle = try runtime.lifecycle(.view)
      let account = try lifecycle.account(id)
      let done = try lifecycle.onboarding(id)
      let usage = try lifecycle.usage(account: id)
      let timeline = try lifecycle.timeline(id)
      let settings = runtime.config.lifecycle
      if json {
        var fields = LifecycleJSON.account(account)
        fields["onboarding"] = .array(
          settings.onboarding.map {
            .object(["id": .string($0.id), "title": .string($0.title), "done_at": LifecycleJSON.date(done[$0.id])])
          })
        fields["usage"] = .array(usage.map(LifecycleJSON.usage))
        fields["timeline"] = .array(
          timeline.map {
            .object([
              "at": LifecycleJSON.date($0.at), "kind": .string($0.kind), "actor": .string($0.actor),
              "note": LifecycleJSON.string($0.note),
            ])
          })
        return try Output.json(JSONValue.object(fields))
      }
      let now = runtime.clock.now()
      var rows: [(String, String)] = [
        ("id", account.id), ("name", account.name), ("email", account.email), ("plan", account.plan),
        ("time zone", account.tz), ("created", Timestamp.format(account.createdAt)),
      ]
      if let ends = account.trialEndsAt {
        rows.append(("trial ends", "\(Timestamp.format(ends)) (\(TrialClock(endsAt: ends, now: now).text))"))
      }
      if let converted = account.convertedAt { rows.append(("converted", Timestamp.format(converted))) }
      if let suppressed = account.suppressedAt { rows.append(("suppressed", Timestamp.format(suppressed))) }
      if let step = account.nextEmailStep {
        rows.append(("next e-mail", "\(step) \(account.nextEmailAt.map(Timestamp.format) ?? "")"))
      }
      let doneCount = settings.onboarding.filter { done[$0.id] != nil }.count
      rows.append(("onboarding", "\(doneCount)/\(settings.onboarding.count)"))
      for step in settings.onboarding {
        rows.append(("  \(step.id)", done[step.id].map { "done \(Timestamp.format($0))" } ?? "-"))
      }
      for line in usage {
        let limit = line.quota.map { " of \(Usage.format($0.limit)) (\($0.hard ? "hard" : "soft"))" } ?? ""
        rows.append(("usage \(line.metric)", "\(Usage.format(line.used))\(limit)"))
      }
      Output.table(rows)
      Output.line("")
      Output.columns(
        ["AT", "WHAT", "BY", "NOTE"],
        timeline.map { [Timestamp.format($0.at), $0.kind, $0.actor, $0.note ?? ""] }, maxWidth: 80)
    }
  }

  struct Convert: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Move an account to a paid plan; it leaves the trial sequence at once.",
      discussion: "Example:\n  opsdeck accounts convert acme --plan growth")
    @OptionGroup var global: GlobalOptions
    @Argument var id: String
    @Option(help: "The paid plan.") var plan: String

    func run() throws {
      try global.runtime().lifecycle(.write).convert(id, plan: plan)
      Output.line("\(id) is on \(plan)")
    }
  }

  struct Suppress: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Send this account no more lifecycle e-mail (pending ones are skipped).")
    @OptionGroup var global: GlobalOptions
    @Argument var id: String
    @Option(help: "Why (kept on the timeline).") var reason = "suppressed by an operator"

    func run() throws {
      try global.runtime().lifecycle(.write).suppress(id, reason: reason)
      Output.line("\(id) suppressed")
    }
  }
}

struct TrialsCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "trials", abstract: "Trials by time left, with onboarding and the next e-mail; extend one.",
    subcommands: [List.self, Extend.self], defaultSubcommand: List.self)

  struct List: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "list", abstract: "Accounts on the trial plan, soonest end first.")
    @OptionGroup var global: GlobalOptions
    @Flag(help: "Print JSON.") var json = false

    func run() throws {
      let runtime = try global.runtime()
      let trials = try runtime.lifecycle(.view).trials()
      if json {
        return try Output.json(
          JSONValue.array(
            trials.map { trial in
              .object([
                "account_id": .string(trial.account.id), "name": .string(trial.account.name),
                "plan": .string(trial.account.plan), "trial_ends_at": LifecycleJSON.date(trial.account.trialEndsAt),
                "days_left": .number(Double(trial.clock.daysLeft)), "expired": .bool(trial.clock.expired),
                "onboarding_done": .number(Double(trial.onboardingDone)),
                "onboarding_total": .number(Double(trial.onboardingTotal)),
                "next_email_step": LifecycleJSON.string(trial.account.nextEmailStep),
                "next_email_at": LifecycleJSON.date(trial.account.nextEmailAt),
              ])
            }))
      }
      Output.columns(
        ["ACCOUNT", "NAME", "LEFT", "ONBOARDING", "NEXT E-MAIL", "AT"],
        trials.map { trial in
          [
            trial.account.id, trial.account.name, trial.clock.text, "\(trial.onboardingDone)/\(trial.onboardingTotal)",
            trial.account.nextEmailStep ?? "-", trial.account.nextEmailAt.map(Timestamp.format) ?? "-",
          ]
        })
    }
  }

  struct Extend: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Add days to a trial (an expired one comes back); who and why go on the timeline.",
      discussion: "Example:\n  opsdeck trials extend acme --days 7 --reason \"waiting on their bank's API access\"")
    @OptionGroup var global: GlobalOptions
    @Argument var id: String
    @Option(help: "Days to add (1 to 365).") var days: Int
    @Option(help: "Why.") var reason: String

    func run() throws {
      let account = try global.runtime().lifecycle(.write).extendTrial(id, days: days, reason: reason)
      Output.line("\(id) trial ends \(account.trialEndsAt.map(Timestamp.format) ?? "-")")
    }
  }
}

struct LifecycleCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "lifecycle", abstract: "The lifecycle engine: tick now, preview an e-mail, take an unsubscribe.",
    subcommands: [Tick.self, Preview.self, Unsubscribe.self])

  struct Tick: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Evaluate everything due at --now (or the real time): trial expiry, sequence steps, re-engagement.",
      discussion: """
        What the lifecycle.tick job does. Running it twice, or in two processes at once,
        queues nothing twice. E-mails go out through email.send jobs (opsdeck work, run
        or the console).
        """)
    @OptionGroup var global: GlobalOptions

    func run() throws {
      let runtime = try global.runtime()
      let lifecycle = try runtime.lifecycle(.write)
      let report = try lifecycle.tick()
      let copied = try EngineEvents.sync(lifecycle: lifecycle, log: EventLog(store: lifecycle.store))
      Output.line(report.description + ", \(copied) engine events")
    }
  }

  struct Preview: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Render a step's e-mail for an account to stdout, without sending it.",
      discussion: "STEP is a step id (welcome), sequence/step (trial/welcome), or usage, upgrade, reengage.")
    @OptionGroup var global: GlobalOptions
    @Argument var id: String
    @Argument var step: String
    @Flag(help: "Print the HTML part too.") var html = false

    func run() throws {
      let email = try global.runtime().lifecycle(.write).preview(account: id, step: step)
      Output.line("Subject: \(TerminalText.sanitize(email.subject))")
      Output.line("")
      Output.text(TerminalText.sanitize(email.text, keepNewlines: true))
      if html, let part = email.html {
        Output.line("\n--- html ---")
        Output.text(TerminalText.sanitize(part, keepNewlines: true))
      }
    }
  }

  struct Unsubscribe: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Verify an unsubscribe token and suppress its account (for the product's endpoint to call).",
      discussion: "Exit 0 and the account id when the token is good; 2 when it is not.")
    @OptionGroup var global: GlobalOptions
    @Argument var token: String

    func run() throws {
      Output.line(try global.runtime().lifecycle(.write).unsubscribe(token: token))
    }
  }
}

struct OutboxCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "outbox", abstract: "Lifecycle e-mails: pending, sent, failed and skipped, newest first.")
  @OptionGroup var global: GlobalOptions
  @Option(help: "pending, sent, failed, sending or skipped.") var status: String?
  @Option(help: "One account's.") var account: String?
  @Flag(help: "Print JSON.") var json = false

  func run() throws {
    let emails = try global.runtime().lifecycle(.view).outbox(status: status, account: account)
    if json {
      return try Output.json(
        JSONValue.array(
          emails.map { email in
            .object([
              "id": .number(Double(email.id)), "account_id": .string(email.accountID),
              "sequence": .string(email.sequence),
              "step": .string(email.step), "trial": .number(Double(email.trial)), "to": .string(email.to),
              "subject": .string(email.subject), "status": .string(email.status),
              "scheduled_at": LifecycleJSON.date(email.scheduledAt), "sent_at": LifecycleJSON.date(email.sentAt),
              "attempts": .number(Double(email.attempts)), "error": LifecycleJSON.string(email.lastError),
            ])
          }))
    }
    Output.columns(
      ["ID", "ACCOUNT", "STEP", "TO", "SUBJECT", "STATUS", "SCHEDULED", "SENT"],
      emails.map {
        [
          String($0.id), $0.accountID, "\($0.sequence)/\($0.step)", $0.to, $0.subject,
          $0.status + ($0.lastError.map { " (\($0))" } ?? ""), Timestamp.format($0.scheduledAt),
          $0.sentAt.map(Timestamp.format) ?? "-",
        ]
      })
  }
}

struct UsageCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "usage", abstract: "Metered usage against plan quotas: record, show, check.",
    subcommands: [Record.self, Show.self, Check.self])

  struct Record: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Record use of a metric; a repeated --idempotency-key is ignored.",
      discussion: "Example:\n  opsdeck usage record acme reconciliations 1 --idempotency-key run-8812")
    @OptionGroup var global: GlobalOptions
    @Argument var account: String
    @Argument var metric: String
    @Argument var quantity: String
    @Option(help: "When it happened (ISO 8601; default now).") var at: String?
    @Option(help: "The product's key for this record.") var idempotencyKey: String?

    func run() throws {
      guard let qty = Double(quantity), qty.isFinite, qty >= 0 else {
        throw ValidationError("invalid QTY '\(quantity)': expected a number 0 or more")
      }
      let when = try at.map { text -> Date in
        do { return try Timestamp.parse(text) } catch { throw ValidationError("invalid --at: \(error)") }
      }
      let result = try global.runtime().lifecycle(.write).recordUsage(
        account: account, metric: metric, quantity: qty, at: when, idempotencyKey: idempotencyKey)
      let limit = result.quota.map { " of \(Usage.format($0.limit))" } ?? ""
      let crossed =
        result.crossed.isEmpty ? "" : " (crossed \(result.crossed.map { "\($0)%" }.joined(separator: ", ")))"
      Output.line(
        result.recorded
          ? "\(metric): \(Usage.format(result.used))\(limit)\(crossed)"
          : "already recorded (idempotency key \(idempotencyKey ?? "")): \(metric) \(Usage.format(result.used))\(limit)"
      )
    }
  }

  struct Show: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "An account's use this period against its quotas.")
    @OptionGroup var global: GlobalOptions
    @Argument var account: String
    @Flag(help: "Print JSON.") var json = false

    func run() throws {
      let lines = try global.runtime().lifecycle(.view).usage(account: account)
      if json { return try Output.json(JSONValue.array(lines.map(LifecycleJSON.usage))) }
      Output.columns(
        ["METRIC", "USED", "LIMIT", "%", "ENFORCE"],
        lines.map {
          [
            $0.metric, Usage.format($0.used), $0.quota.map { Usage.format($0.limit) } ?? "unlimited",
            $0.percent.map { "\($0)%" } ?? "-", $0.quota.map { $0.hard ? "hard" : "soft" } ?? "-",
          ]
        })
    }
  }

  struct Check: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Would QTY more be allowed? Exit 0 allowed, 3 denied; prints use/limit.",
      discussion:
        "For the product to call before a metered action.\nExample:\n  opsdeck usage check acme reconciliations --qty 1"
    )
    @OptionGroup var global: GlobalOptions
    @Argument var account: String
    @Argument var metric: String
    @Option(help: "How much more (default 1).") var qty: Double = 1

    func run() throws {
      let decision = try global.runtime().lifecycle(.write).checkUsage(account: account, metric: metric, quantity: qty)
      let limit = decision.quota.map { Usage.format($0.limit) } ?? "unlimited"
      let word = decision.allowed ? (decision.overSoft ? "allowed (over the soft limit)" : "allowed") : "denied"
      Output.line("\(word) \(Usage.format(decision.used))/\(limit)")
      if !decision.allowed { throw ExitCode(3) }
    }
  }
}
