"""Contests and their structure: stages, groups, fields, rubrics and award tiers."""
