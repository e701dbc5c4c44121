"""REST API of the policy registries: firearms, grants, bindings, strategy locks, KPIs and budgets."""
