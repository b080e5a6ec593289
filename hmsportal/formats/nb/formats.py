"""Dates and numbers on bokmål pages, as Språkrådet writes them.

Django's nb formats, except that a date with a time reads "1. desember 2026 kl. 14:30".
"""

DATE_FORMAT = "j. F Y"  # 1. desember 2026
TIME_FORMAT = "H:i"
DATETIME_FORMAT = r"j. F Y \k\l. H:i"  # 1. desember 2026 kl. 14:30
YEAR_MONTH_FORMAT = "F Y"
MONTH_DAY_FORMAT = "j. F"
SHORT_DATE_FORMAT = "d.m.Y"  # 01.12.2026
SHORT_DATETIME_FORMAT = "d.m.Y H:i"
FIRST_DAY_OF_WEEK = 1  # Monday
DECIMAL_SEPARATOR = ","
THOUSAND_SEPARATOR = "\xa0"  # a non-breaking space
NUMBER_GROUPING = 3
