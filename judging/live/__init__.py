"""The live final (路演): the entry on stage, the pitch and Q&A timers, revealing a score on
the big screen (当场亮分, Rule 8), the organizer's control and the judges' banner. The public
views of it (the big screen, the live API) are the leaderboard's."""
