from .views import DraftViewSet

__all__ = ["DraftViewSet"]
