/// The seed's lifecycle: its plans, onboarding and 30-day trial sequence —
/// what runs when the config names none.
extension LifecycleSettings {
  public static let seedPlans: [Plan] = [
    Plan(
      name: "trial", price: 0,
      quotas: [
        "reconciliations": Quota(limit: 50, hard: true), "bank_accounts": Quota(limit: 2, hard: true),
        "seats": Quota(limit: 3, hard: false), "api_calls": Quota(limit: 0, hard: true),
      ]),
    Plan(
      name: "starter", price: 49,
      quotas: [
        "reconciliations": Quota(limit: 200, hard: true), "bank_accounts": Quota(limit: 3, hard: true),
        "seats": Quota(limit: 3, hard: false), "api_calls": Quota(limit: 0, hard: true),
      ]),
    Plan(
      name: "growth", price: 199,
      quotas: [
        "reconciliations": Quota(limit: 1_000, hard: true), "bank_accounts": Quota(limit: 10, hard: true),
        "seats": Quota(limit: 10, hard: false), "api_calls": Quota(limit: 100_000, hard: false),
      ]),
    Plan(
      name: "scale", price: 599,
      quotas: [
        "reconciliations": Quota(limit: 10_000, hard: false), "bank_accounts": Quota(limit: 50, hard: true),
        "seats": Quota(limit: 50, hard: false), "api_calls": Quota(limit: 1_000_000, hard: false),
      ]),
  ]

  public static let seedOnboarding: [OnboardingStep] = [
    OnboardingStep(id: "account_created", title: "Create your account", event: "account.created"),
    OnboardingStep(id: "bank_connected", title: "Connect your bank", event: "bank.connected"),
    OnboardingStep(id: "statement_imported", title: "Import a statement", event: "statement.imported"),
    OnboardingStep(id: "reconciliation_run", title: "Run your first reconciliation", event: "reconciliation.completed"),
    OnboardingStep(id: "teammate_invited", title: "Invite a teammate", event: "teammate.invited"),
  ]

  public static let seedSequence = EmailSequence(
    name: "trial",
    steps: [
      SequenceStep(id: "welcome", day: 0, template: "welcome", subject: "Welcome to Reconcile, {{name}}", priority: 90),
      SequenceStep(
        id: "connect_bank", day: 1, template: "connect_bank", subject: "Connect your bank in two minutes",
        unless: ["bank_connected"]),
      SequenceStep(
        id: "first_reconciliation", day: 3, template: "first_reconciliation",
        subject: "Your first reconciliation is one click away", unless: ["reconciliation_run"]),
      SequenceStep(
        id: "week_one", day: 7, template: "week_one",
        subject: "Your first week: {{onboarding_done}} of {{onboarding_total}} done"),
      SequenceStep(id: "halfway", day: 14, template: "halfway", subject: "Halfway through your trial"),
      SequenceStep(
        id: "case_study", day: 21, template: "case_study", subject: "How finance teams close the month in a day",
        priority: 30),
      SequenceStep(
        id: "ends_soon", day: 27, template: "ends_soon", subject: "{{days_left}} days left in your trial", priority: 80),
      SequenceStep(
        id: "last_chance", day: 29, template: "last_chance", subject: "Your trial ends tonight", priority: 85),
      SequenceStep(id: "trial_ended", day: 30, template: "trial_ended", subject: "Your trial has ended", priority: 85),
    ])
}
