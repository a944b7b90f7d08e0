"""Score sheets (评分表): a judge's points for one entry in one stage, and the scoring pages."""
