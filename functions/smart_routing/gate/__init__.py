"""The one pre-trade gate: the decision value, the checks in order (router, with draft,
cost_check and account_check), the cost model and fees, the threshold policy, the limit
fallback and lowest-cost venue selection. May import: domain, market, logs."""
