"""What proves the grader trustworthy: the declared mutants (seeded bugs) and the attack catalogue."""
