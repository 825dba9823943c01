# Multi-stage build of the API and the worker.
#   docker build --target api -t adamerging-api .
#   docker build --target worker -t adamerging-worker .                          (CPU libtorch)
#   docker build --target worker --build-arg TORCH_BACKEND=cuda -t adamerging-worker:cuda .
# The .NET 10 images are Ubuntu 24.04, whose libstdc++ already has GLIBCXX_3.4.32, so libLibTorchSharp.so
# loads there without the weak-version patch the build applies for Debian 12 (harmless here).

FROM mcr.microsoft.com/dotnet/sdk:10.0 AS sources
WORKDIR /src
COPY Directory.Build.props Directory.Build.targets Directory.Packages.props AdaMerging.slnx .editorconfig ./
COPY build/ build/
COPY AdaMerging.Domain/ AdaMerging.Domain/
COPY AdaMerging.Infrastructure/ AdaMerging.Infrastructure/
COPY AdaMerging.Api/ AdaMerging.Api/
COPY AdaMerging.Worker/ AdaMerging.Worker/
# The PyTorch reference fixtures the worker's device check compares against (scripts/gpu-check.sh).
COPY AdaMerging.Tests/Fixtures/clip_tiny/ AdaMerging.Tests/Fixtures/clip_tiny/
COPY AdaMerging.Tests/Fixtures/clip_text/ AdaMerging.Tests/Fixtures/clip_text/
COPY AdaMerging.Tests/Fixtures/resnet_tiny/ AdaMerging.Tests/Fixtures/resnet_tiny/
COPY AdaMerging.Tests/Fixtures/bert_tiny/ AdaMerging.Tests/Fixtures/bert_tiny/
COPY AdaMerging.Tests/Fixtures/gpt2_tiny/ AdaMerging.Tests/Fixtures/gpt2_tiny/
COPY AdaMerging.Tests/Fixtures/llama_tiny/ AdaMerging.Tests/Fixtures/llama_tiny/

# The API never computes on a GPU: it is always built on the CPU libtorch (no CUDA package in its restore graph).
FROM sources AS build-api
RUN dotnet publish AdaMerging.Api -c Release -o /out/api -p:TorchBackend=cpu

FROM sources AS build-worker
ARG TORCH_BACKEND=cpu
RUN dotnet publish AdaMerging.Worker -c Release -o /out/worker -p:TorchBackend=$TORCH_BACKEND

FROM mcr.microsoft.com/dotnet/aspnet:10.0 AS api
WORKDIR /app
COPY --from=build-api /out/api ./
ENV ASPNETCORE_URLS=http://+:8080 \
    AdaMerging__DataRoot=/data
EXPOSE 8080
# The image has no curl; bash's /dev/tcp asks /health/ready instead.
HEALTHCHECK --interval=10s --timeout=3s --retries=5 \
  CMD ["bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/8080 && printf 'GET /health/ready HTTP/1.0\\r\\n\\r\\n' >&3 && grep -q ' 200 ' <&3"]
RUN mkdir -p /data && chown app /data
VOLUME ["/data"]
USER app
ENTRYPOINT ["dotnet", "AdaMerging.Api.dll"]

FROM mcr.microsoft.com/dotnet/aspnet:10.0 AS worker
WORKDIR /app
COPY --from=build-worker /out/worker ./
# A new host's check: docker compose run --rm --entrypoint /app/gpu-check.sh gpu-worker (docs/deployment.md)
COPY --chmod=755 scripts/gpu-check.sh ./
ENV AdaMerging__DataRoot=/data \
    AdaMerging__Device=auto \
    AdaMerging__WorkerMetricsPort=9464
EXPOSE 9464
# Alive when its /metrics answers (the worker serves no other HTTP).
HEALTHCHECK --interval=15s --timeout=3s --retries=5 \
  CMD ["bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/9464 && printf 'GET /metrics HTTP/1.0\\r\\n\\r\\n' >&3 && grep -q ' 200 ' <&3"]
RUN mkdir -p /data && chown app /data
VOLUME ["/data"]
USER app
ENTRYPOINT ["dotnet", "AdaMerging.Worker.dll", "serve"]
