"""The public leaderboard, the live final's big screen, and the JSON API."""
