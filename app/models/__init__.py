"""ORM models (SQLAlchemy 2.x typed), split by feature. Every change needs a migration.

Importing this package registers every table on ``Base.metadata`` (Alembic uses it).
"""

from app.models.base import Base, UTCDateTime, utcnow
from app.models.claims import Claim
from app.models.content import Asked, Chapter, ParsedFileCache, Question, QuestionTag, Tag
from app.models.fsrs_fit import FsrsFit
from app.models.mock import MockAttempt, MockInterview
from app.models.notes import QuestionNote
from app.models.quiz import Quiz, QuizItem
from app.models.review_totals import ReviewTotal
from app.models.runs import RUN_STATUSES, DemoEvent, DemoRun
from app.models.sources import Source
from app.models.study import Card, Interview, ReviewLog, fsrs_columns
from app.models.users import LOCAL_USERNAME, User

__all__ = [
    "LOCAL_USERNAME",
    "RUN_STATUSES",
    "Asked",
    "Base",
    "Card",
    "Chapter",
    "Claim",
    "ParsedFileCache",
    "DemoEvent",
    "DemoRun",
    "FsrsFit",
    "Interview",
    "MockAttempt",
    "MockInterview",
    "Question",
    "QuestionNote",
    "QuestionTag",
    "Quiz",
    "QuizItem",
    "ReviewLog",
    "ReviewTotal",
    "Source",
    "Tag",
    "UTCDateTime",
    "User",
    "fsrs_columns",
    "utcnow",
]
