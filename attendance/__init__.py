"""Chấm công và kiểm tra đeo thẻ: the attendance and badge-check domain.

This package holds the models, the working-hour rules, the calendar, badges and reports.
It imports neither Flask nor OpenCV, so the web service, the scheduler and the scanner
station can all stand on it.
"""

__version__ = "0.1.0"
