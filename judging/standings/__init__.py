"""Read models between the writers (scoring, imports) and the readers (awards, live,
leaderboard, exports): who takes part in a stage (``participation``), the sheets a stage
needs and how far they are (``progress``), and each group's ranked standings with their
cache (``groups``)."""
