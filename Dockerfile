# qa-service API image: packaged models, CPU only. With docker-compose.yml it talks to a Chroma server
# (QA_CHROMA__URL); run alone it keeps an embedded Chroma under QA_DATA_DIR (mount a volume there).
FROM python:3.11-slim
RUN apt-get update && apt-get install -y --no-install-recommends build-essential cmake \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /app
# torch first, the CPU build, so nothing pulls a multi-GB CUDA build; llama.cpp built portable (see README).
RUN pip install --no-cache-dir torch==2.13.0 --index-url https://download.pytorch.org/whl/cpu \
    && CMAKE_ARGS="-DGGML_NATIVE=OFF -DGGML_AVX2=ON -DGGML_AVX512=OFF" \
       pip install --no-cache-dir llama-cpp-python==0.3.36
COPY pyproject.toml README.md ./
COPY qa_service qa_service
COPY evals evals
COPY prompts prompts
COPY seeds seeds
# [remote]: the openai client, for QA_LLM__BACKEND=openai (the ollama backend needs nothing extra).
RUN pip install --no-cache-dir -e '.[remote]'
ENV QA_DATA_DIR=/data HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1
EXPOSE 8000
HEALTHCHECK --interval=10s --timeout=3s --start-period=60s \
  CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/readyz')"
# One uvicorn worker per container: scale with replicas (docker compose --scale api=N), not workers.
CMD ["qa-service", "serve", "--host", "0.0.0.0", "--port", "8000"]
