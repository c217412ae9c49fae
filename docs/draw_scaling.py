"""Draw docs/scaling.png: the pieces of a scaled-out rag deployment (run from the repo root)."""
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch

fig, ax = plt.subplots(figsize=(13, 7.2), dpi=110)
ax.set_xlim(0, 13)
ax.set_ylim(0, 7.2)
ax.axis("off")

BLUE, GREEN, ORANGE, GREY = "#dbe9f6", "#dff1e0", "#fde9d2", "#eeeeee"


def box(x, y, w, h, title, lines=(), color=GREY, dashed=False, title_size=11.5):
    ax.add_patch(FancyBboxPatch((x, y), w, h, boxstyle="round,pad=0.02,rounding_size=0.12",
                                linewidth=1.4, edgecolor="#444", facecolor=color,
                                linestyle="--" if dashed else "-"))
    ax.text(x + w / 2, y + h - 0.28, title, ha="center", va="top", fontsize=title_size, weight="bold")
    for i, line in enumerate(lines):
        ax.text(x + w / 2, y + h - 0.68 - i * 0.3, line, ha="center", va="top", fontsize=9.2, family="monospace")


def arrow(x1, y1, x2, y2, label="", dy=0.12, both=False):
    ax.add_patch(FancyArrowPatch((x1, y1), (x2, y2), arrowstyle="<|-|>" if both else "-|>",
                                 mutation_scale=14, linewidth=1.3, color="#333"))
    if label:
        ax.text((x1 + x2) / 2, (y1 + y2) / 2 + dy, label, ha="center", va="bottom", fontsize=8.8, style="italic")


ax.text(6.5, 7.0, "rag, scaled out: the heavy parts on servers you already run", ha="center", va="top",
        fontsize=14, weight="bold")

# callers
box(0.2, 4.95, 2.6, 1.35, "People", ["browser -> web UI"], BLUE)
box(0.2, 2.95, 2.6, 1.75, "Programs", ["openai client, curl", "POST /v1/chat/", "     completions"], BLUE)
box(0.2, 0.9, 2.6, 1.35, "Terminal", ["rag ask / ingest"], BLUE)

# the rag process
box(3.6, 0.5, 4.6, 6.2, "rag process (one or more hosts)", [], GREEN, title_size=12.5)
box(3.85, 4.9, 4.1, 1.2, "web UI  (rag serve, :7860)", ["Gradio chat + collection"], "white", title_size=10.5)
box(3.85, 3.2, 3.45, 1.4, "HTTP API  (rag serve --api)", ["/v1/chat/completions", "/v1/ingest  /healthz"],
    "white", title_size=10)
box(3.85, 0.75, 4.1, 2.1, "pipeline", ["retrieve -> select evidence", "-> prompt -> generate (draft)",
                                      "-> extract & cite"], "white")

# backends
box(9.4, 4.15, 3.5, 2.45, "answer model  (backend =)", ["\"llama\": llama-cpp-python", "   in process (default)",
                                                        "\"openai\": base_url ->", " llama.cpp server, vLLM,",
                                                        " Ollama, a hosted API"], ORANGE, title_size=10.5)
box(9.4, 0.5, 3.5, 3.1, "index  (vector store)", ["FAISS + BM25 on disk", "   index_dir (default)", "",
                                                  "PostgreSQL + pgvector", "   (part 2: see below)"],
    ORANGE, title_size=10.5)

# arrows: callers -> process
arrow(2.8, 5.6, 3.85, 5.5, "HTTP")
arrow(2.8, 3.85, 3.85, 3.9, "HTTP")
arrow(2.8, 1.55, 3.85, 1.55, "in process")
# inside: UI and API use the pipeline
arrow(7.62, 4.9, 7.62, 2.85)
arrow(5.55, 3.2, 5.55, 2.85)
# pipeline -> backends
arrow(7.95, 2.4, 9.4, 5.1)
ax.text(8.72, 3.95, "chat,\nstreamed", ha="center", fontsize=8.8, style="italic",
        bbox={"facecolor": "white", "edgecolor": "none", "pad": 1})
arrow(7.95, 1.5, 9.4, 1.8)
ax.text(8.68, 1.05, "search /\ningest", ha="center", fontsize=8.8, style="italic")

ax.text(6.5, 0.12, "The caller never sees which model backend or vector store is in use: the API and the UI "
        "talk to the pipeline only.", ha="center", fontsize=9, color="#333")
fig.savefig("docs/scaling.png", bbox_inches="tight", facecolor="white")
print("wrote docs/scaling.png")
