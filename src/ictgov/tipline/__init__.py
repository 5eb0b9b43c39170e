"""The fake-news centre: reports from the public, grouped by claim, verified and published."""
