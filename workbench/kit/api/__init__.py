"""API base every app's endpoints build on: viewsets, serializers, pagination, permissions, the OpenAPI
schema and the one exception handler that answers refusals as problem+json."""
