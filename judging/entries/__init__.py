"""Entries (参赛项目): the projects that take part in a contest."""
