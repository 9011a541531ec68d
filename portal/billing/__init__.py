"""Plans, prices, subscriptions and payments."""
