"""Presentation shared by the faces (public pages, console, postmortems): the page's zone, times as
readers see them, durations, the wording of affected components, and Markdown. It sits below the faces
and above the status core, so that no face imports another for it."""
