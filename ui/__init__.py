"""The Streamlit app's shared pieces (the pages and ``app.py`` stay thin)."""
