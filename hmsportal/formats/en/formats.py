"""Dates and numbers on English pages: British day-month order, 24-hour clock.

Django's own English formats are American ("Dec. 1, 2026", "p.m."); the portal's English
readers are mostly workers and inspectors in Europe, and the dates should read the same
way as on the Norwegian pages, only in English words.
"""

DATE_FORMAT = "j F Y"  # 1 December 2026
TIME_FORMAT = "H:i"
DATETIME_FORMAT = "j F Y, H:i"  # 1 December 2026, 14:30
YEAR_MONTH_FORMAT = "F Y"
MONTH_DAY_FORMAT = "j F"
SHORT_DATE_FORMAT = "j M Y"  # 1 Dec 2026: never 01.12 vs 12/01 ambiguity
SHORT_DATETIME_FORMAT = "j M Y, H:i"
FIRST_DAY_OF_WEEK = 1  # Monday
DECIMAL_SEPARATOR = "."
THOUSAND_SEPARATOR = ","
NUMBER_GROUPING = 3
