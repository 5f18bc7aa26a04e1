#include "ouroboros/qt_message_handler.hpp"

#include <QByteArray>
#include <QString>
#include <atomic>
#include <cstring>
#include <string_view>

namespace ouroboros::qt {

namespace {
std::atomic<logger*> target_logger{nullptr};
std::atomic<bool> chain{false};
QtMessageHandler previous_handler = nullptr;
bool installed = false;

void handle(QtMsgType type, const QMessageLogContext& context, const QString& message) {
  if (logger* target = target_logger.load(std::memory_order_acquire)) {
    const level severity = from_qt(type);
    if (target->enabled(severity)) {
      const QByteArray text = message.toUtf8();
      const std::string_view tag =
          context.category != nullptr ? std::string_view(context.category) : "default";
      const std::string_view body(text.constData(), static_cast<std::size_t>(text.size()));
      if (context.file != nullptr) {
        std::string_view file(context.file);
        if (const auto slash = file.find_last_of('/'); slash != std::string_view::npos)
          file.remove_prefix(slash + 1);
        const field fields[] = {{"file", file},
                                {"line", context.line},
                                {"function", context.function != nullptr ? context.function : ""}};
        target->write(severity, tag, body, fields);
      } else {
        target->write(severity, tag, body);
      }
    }
  }
  if (chain.load(std::memory_order_relaxed) && previous_handler != nullptr) {
    previous_handler(type, context, message);
  }
}
}  // namespace

level from_qt(QtMsgType type) noexcept {
  switch (type) {
    case QtDebugMsg: return level::debug;
    case QtInfoMsg: return level::info;
    case QtWarningMsg: return level::warn;
    case QtCriticalMsg: return level::error;
    case QtFatalMsg: return level::critical;
  }
  return level::info;
}

void install_message_handler(logger& target, const handler_options& options) {
  chain.store(options.chain_previous, std::memory_order_relaxed);
  target_logger.store(&target, std::memory_order_release);
  if (!installed) {
    previous_handler = qInstallMessageHandler(handle);
    installed = true;
  }
}

void uninstall_message_handler() {
  if (!installed) return;
  qInstallMessageHandler(previous_handler);
  previous_handler = nullptr;
  installed = false;
  target_logger.store(nullptr, std::memory_order_release);
}

}  // namespace ouroboros::qt
