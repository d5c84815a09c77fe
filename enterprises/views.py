"""Public pages of the registry. (Filled by the public-site work.)"""

from django.http import HttpResponse


def search(request):
    return HttpResponse("")


def entity(request, uscc):
    return HttpResponse("")
