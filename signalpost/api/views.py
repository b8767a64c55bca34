from ninja import NinjaAPI

api = NinjaAPI(title="Signalpost management API", version="1")
